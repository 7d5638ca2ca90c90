// TCP connections signed with an MD5 key (RFC 2385), for BGPPeers with a password. The
// key has to be set before the SYN, which Node's net module cannot do: the packet addon
// makes the socket and starts the connect, and net.Socket takes the descriptor once it
// is connected.
import { Socket } from 'node:net';
import { loadPacketAddon } from './packet-socket.js';

const CONNECT_TIMEOUT_MS = 5_000;

export function connectTcpMd5(o: { host: string; port: number; localAddress?: string; password: string }): Promise<Socket> {
  const addon = loadPacketAddon();
  const fd = addon.tcpMd5Connect(o.host, o.port, o.password, o.localAddress ?? null);
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const check = (): void => {
      let done: boolean;
      try {
        done = addon.connectResult(fd);
      } catch (e) {
        addon.closeFd(fd);
        reject(e as Error);
        return;
      }
      if (done) {
        resolve(new Socket({ fd, readable: true, writable: true }));
        return;
      }
      if (Date.now() - t0 > CONNECT_TIMEOUT_MS) {
        addon.closeFd(fd);
        reject(new Error('connect timed out'));
        return;
      }
      setTimeout(check, 10);
    };
    check();
  });
}
