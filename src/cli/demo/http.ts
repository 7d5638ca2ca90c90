// One HTTP(S) GET on a fresh connection (no keep-alive: the local provider balances
// connections, so each request is a new balancing decision, as with `curl`).
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface GetResult {
  readonly status: number;
  readonly body: string;
  /** The pod that answered (its x-pod header), if one did. */
  readonly pod: string | undefined;
}

export function httpGet(endpoint: string, path = '/', opts: { host?: string; timeoutMs?: number } = {}): Promise<GetResult> {
  const i = endpoint.lastIndexOf(':');
  const hostname = endpoint.slice(0, i);
  const port = Number(endpoint.slice(i + 1));
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname, port, path, method: 'GET', agent: false, headers: { connection: 'close', ...(opts.host ? { host: opts.host } : {}) }, timeout: opts.timeoutMs ?? 3000 },
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
