// A Gateway's TLS port (TLSRoute): the ClientHello is read (not answered) for its SNI,
// which picks listener and rule (model/gateway-match.ts's TlsPortMatcher). Passthrough
// forwards the bytes as they came, ClientHello first, so the client completes its
// handshake with the backend's own certificate; Terminate completes the handshake here
// with the listener's certificate and forwards the plain stream. No listener or rule for
// the name, or no valid backend: the connection is reset, as a TCP listener without
// targets does. Also here: certificates chosen per listener for a Gateway HTTPS port.
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { HttpsGatewayListener } from '../../model/gateway.js';
import { hostnameMatches, normalizeHost } from '../../model/gateway-match.js';
import type { CertificateSource, HttpProxyListener } from './http-router.js';
import { replayed } from './replay.js';
import { dialTarget, StreamListener } from './tcp-proxy.js';
import type { TargetSetRuntime } from './target-set.js';
import type { CertificateStore } from './tls.js';

/** A ClientHello larger than this (one full TLS record plus header) is not a ClientHello we serve. */
const MAX_HELLO = 16_384 + 5;
/** A client that sends no complete ClientHello in this time is cut. */
const HELLO_TIMEOUT_MS = 10_000;

export type ClientHello = { readonly complete: false } | { readonly complete: true; readonly serverName?: string } | { readonly complete: true; readonly invalid: true };

/**
 * The SNI of a TLS ClientHello (RFC 8446 4.1.2, RFC 6066 3), from the first record.
 * `complete: false` asks for more bytes.
 */
export function parseClientHello(buf: Buffer): ClientHello {
  if (buf.length < 5) return { complete: false };
  if (buf[0] !== 0x16) return { complete: true, invalid: true };
  const recordLen = buf.readUInt16BE(3);
  if (buf.length < 5 + recordLen) return { complete: false };
  const hs = buf.subarray(5, 5 + recordLen);
  try {
    if (hs[0] !== 0x01) return { complete: true, invalid: true };
    let i = 4 + 2 + 32; // handshake header, legacy_version, random
    i += 1 + (hs[i] ?? 0); // session id
    i += 2 + hs.readUInt16BE(i); // cipher suites
    i += 1 + (hs[i] ?? 0); // compression methods
    if (i >= hs.length) return { complete: true };
    const extEnd = i + 2 + hs.readUInt16BE(i);
    i += 2;
    while (i + 4 <= extEnd) {
      const type = hs.readUInt16BE(i);
      const len = hs.readUInt16BE(i + 2);
      i += 4;
      if (type === 0x0000) {
        let j = i + 2;
        while (j + 3 <= i + len) {
          const nameType = hs[j];
          const nameLen = hs.readUInt16BE(j + 1);
          if (nameType === 0) return { complete: true, serverName: hs.subarray(j + 3, j + 3 + nameLen).toString('ascii') };
          j += 3 + nameLen;
        }
      }
      i += len;
    }
    return { complete: true };
  } catch {
    return { complete: true, invalid: true };
  }
}

/** What the port serves for one server name. */
export type TlsDecision =
  | { readonly mode: 'Passthrough'; readonly targetSet: TargetSetRuntime }
  | { readonly mode: 'Terminate'; readonly targetSet: TargetSetRuntime; readonly context: SecureContext }
  /** An HTTPS listener on the same port owns the name: its server completes the handshake and serves HTTP. */
  | { readonly mode: 'Https' };

export interface TlsRoute {
  allow(clientIp: string): boolean;
  /** undefined: nothing serves that name (or no SNI), or its backend is invalid. */
  resolve(serverName: string | undefined): TlsDecision | undefined;
}

export class TlsProxyListener extends StreamListener {
  constructor(
    host: string,
    port: number,
    private readonly route: TlsRoute,
    private readonly opts: { readonly connectTimeoutMs: number },
  ) {
    super(host, port, 'TLS', false, (ip) => route.allow(ip));
  }

  /**
   * The server of the HTTPS listeners that share this port, if any: it binds no socket of
   * its own; the connections SNI gives it arrive from here, ClientHello replayed in front,
   * and it completes the handshake with its listeners' certificates.
   */
  private https: HttpProxyListener | undefined;

  serveHttpsWith(server: HttpProxyListener): void {
    this.https = server;
  }

  get servesHttps(): boolean {
    return this.https !== undefined;
  }

  override async close(graceMs: number): Promise<void> {
    await Promise.all([super.close(graceMs), this.https?.close(graceMs)]);
  }

  override abort(): void {
    super.abort();
    this.https?.abort();
  }

  protected serve(client: Socket, ip: string): void {
    let seen = Buffer.alloc(0);
    const timer = setTimeout(() => client.destroy(), HELLO_TIMEOUT_MS);
    timer.unref();
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk]);
      const hello = parseClientHello(seen);
      if (!hello.complete && seen.length < MAX_HELLO) return;
      clearTimeout(timer);
      client.off('data', onData);
      client.pause();
      const d = hello.complete && !('invalid' in hello) ? this.route.resolve(hello.serverName) : undefined;
      if (!d) {
        client.resetAndDestroy();
        return;
      }
      if (d.mode === 'Https') {
        if (this.https) this.https.accept(replayed(client, seen));
        else client.resetAndDestroy();
        return;
      }
      if (d.mode === 'Passthrough') {
        dialTarget(client, ip, d.targetSet, this.conns, this.opts.connectTimeoutMs, seen);
        return;
      }
      const tls = new TLSSocket(replayed(client, seen) as unknown as Socket, { isServer: true, secureContext: d.context });
      tls.on('error', () => client.destroy());
      tls.once('secure', () => dialTarget(tls, ip, d.targetSet, this.conns, this.opts.connectTimeoutMs));
    };
    client.on('data', onData);
  }
}

/** An HTTPS port's certificates: SNI picks the listener as requests do, then that listener's certificate. */
export class ListenerCertificates implements CertificateSource {
  constructor(private readonly listeners: readonly { readonly listener: HttpsGatewayListener; readonly store: CertificateStore }[]) {}

  private storeFor(name: string): CertificateStore | undefined {
    const host = normalizeHost(name);
    const exact = this.listeners.find((l) => l.listener.hostname === host);
    if (exact) return exact.store;
    const wild = this.listeners
      .filter((l) => l.listener.hostname?.startsWith('*.') && hostnameMatches(l.listener.hostname, host))
      .sort((a, b) => (b.listener.hostname?.length ?? 0) - (a.listener.hostname?.length ?? 0))[0];
    return (wild ?? this.listeners.find((l) => !l.listener.hostname))?.store;
  }

  get fallback(): { cert: string; key: string } | undefined {
    const bare = this.listeners.find((l) => !l.listener.hostname && l.store.size > 0) ?? this.listeners.find((l) => l.store.size > 0);
    return bare?.store.fallback;
  }

  select(servername: string): SecureContext | undefined {
    const store = this.storeFor(servername);
    return store && store.size > 0 ? store.select(servername) : undefined;
  }
}
