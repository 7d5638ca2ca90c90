// One HTTP(S) GET on a fresh connection (no keep-alive: the local provider balances
// connections, so each request is a new balancing decision, as with `curl`).
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

export interface GetResult {
  readonly status: number;
  readonly body: string;
  /** The pod that answered (its x-pod header), if one did. */
  readonly pod: string | undefined;
}

export function httpGet(endpoint: string, path = '/', opts: { host?: string; headers?: Readonly<Record<string, string>>; timeoutMs?: number } = {}): Promise<GetResult> {
  const i = endpoint.lastIndexOf(':');
  const hostname = endpoint.slice(0, i);
  const port = Number(endpoint.slice(i + 1));
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname, port, path, method: 'GET', agent: false, headers: { ...opts.headers, connection: 'close', ...(opts.host ? { host: opts.host } : {}) }, timeout: opts.timeoutMs ?? 3000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const pod = res.headers['x-pod'];
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), pod: typeof pod === 'string' ? pod : undefined });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET http://${endpoint}${path}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** `n` GETs one after another, each on its own connection. */
export async function gets(endpoint: string | undefined, n: number, path = '/', host?: string, headers?: Readonly<Record<string, string>>): Promise<GetResult[]> {
  if (!endpoint) throw new Error('no listener');
  const out: GetResult[] = [];
  for (let i = 0; i < n; i++) out.push(await httpGet(endpoint, path, { ...(host ? { host } : {}), ...(headers ? { headers } : {}) }));
  return out;
}

/**
 * A TLS handshake that sends `servername` as SNI and trusts nothing in particular: the
 * fingerprint of whatever certificate a server shows, or a rejection when none answers
 * (the connection is reset or closed before the handshake completes).
 */
export function tlsHandshake(endpoint: string, servername: string, timeoutMs = 3000): Promise<string> {
  const i = endpoint.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: endpoint.slice(0, i), port: Number(endpoint.slice(i + 1)), servername, rejectUnauthorized: false, timeout: timeoutMs }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.on('timeout', () => socket.destroy(new Error(`TLS to ${endpoint} as ${servername}: timed out`)));
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`TLS to ${endpoint} as ${servername}: closed before the handshake completed`)));
  });
}

export interface HttpsResult extends GetResult {
  /** SHA-256 fingerprint of the certificate the server presented. */
  readonly fingerprint256: string;
}

/**
 * One HTTPS GET that sends `servername` as SNI and verifies the server against `ca`
 * (as `curl --cacert` does): it rejects when the certificate does not verify or does
 * not name servername.
 */
export function httpsGet(endpoint: string, path: string, opts: { servername: string; ca: string; timeoutMs?: number }): Promise<HttpsResult> {
  const i = endpoint.lastIndexOf(':');
  const hostname = endpoint.slice(0, i);
  const port = Number(endpoint.slice(i + 1));
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { hostname, port, path, method: 'GET', agent: false, servername: opts.servername, ca: opts.ca, headers: { connection: 'close', host: opts.servername }, timeout: opts.timeoutMs ?? 3000 },
      (res) => {
        const fingerprint256 = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const pod = res.headers['x-pod'];
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), pod: typeof pod === 'string' ? pod : undefined, fingerprint256 });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET https://${opts.servername}${path} at ${endpoint}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}
