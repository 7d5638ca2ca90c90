// A client socket with bytes already read from it put back in front. Node's TLS and HTTP/2
// servers read a net.Socket straight from its handle, past anything unshift() put back
// in the JavaScript buffer; a stream without a handle they read through JavaScript, from
// the start. Used where the first bytes had to be read to decide who gets the connection
// (a TLS ClientHello's SNI, the HTTP/2 connection preface).
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

/** Who is at either end of a connection: what a stream standing in for its socket must answer as the socket does. */
export const PEER_KEYS = ['remoteAddress', 'remotePort', 'remoteFamily', 'localAddress', 'localPort'] as const;

export function replayed(socket: Socket, head: Buffer): Duplex {
  const d = new Duplex({
    read: () => socket.resume(),
    write: (chunk: Buffer, _enc, cb) => socket.write(chunk, cb),
    final: (cb) => {
      socket.end();
      cb();
    },
    destroy: (err, cb) => {
      socket.destroy();
      cb(err);
    },
  });
  // Who is at the other end, for X-Forwarded-For and sourceRanges, as on the socket itself.
  for (const key of PEER_KEYS) {
    Object.defineProperty(d, key, { get: () => socket[key] });
  }
  d.push(head);
  socket.on('data', (c: Buffer) => {
    if (!d.push(c)) socket.pause();
  });
  socket.once('end', () => d.push(null));
  socket.once('close', () => d.destroy());
  return d;
}
