// Binding listening sockets, and what a failed bind means for the reconciler: a port
// someone else holds is a conflict (it may free up, so retry), a privileged port without
// the privilege is forbidden (needs root, CAP_NET_BIND_SERVICE, or portOffset/portMap).
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { ProviderError } from '../types.js';

export interface BindFailure {
  readonly kind: 'conflict' | 'forbidden' | 'transient';
  readonly message: string;
}

export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function describeBindError(e: unknown, protocol: string, host: string, port: number): BindFailure {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const where = `${protocol} ${hostPort(host, port)}`;
  switch (code) {
    case 'EADDRINUSE':
      return { kind: 'conflict', message: `cannot listen on ${where}: address already in use` };
    case 'EACCES':
    case 'EPERM':
      return {
        kind: 'forbidden',
        message: `cannot listen on ${where}: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE; or set the local provider's portOffset/portMap)`,
      };
    case 'EADDRNOTAVAIL':
      return { kind: 'transient', message: `cannot listen on ${where}: address not available on this host` };
    default:
      return { kind: 'transient', message: `cannot listen on ${where}: ${e instanceof Error ? e.message : String(e)}` };
  }
}

export class BindError extends ProviderError {
  constructor(
    readonly failure: BindFailure,
    cause: unknown,
    provider?: string,
  ) {
    super(failure.kind, failure.message, { cause, ...(provider !== undefined ? { provider } : {}) });
  }
}

/** Resolves once server listens on host:port; rejects with a BindError. */
export function listenTcp(server: Server, host: string, port: number, protocol = 'TCP'): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (e: unknown): void => {
      server.off('listening', onListening);
      reject(new BindError(describeBindError(e, protocol, host, port), e));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true });
  });
}

export function bindUdp(socket: UdpSocket, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (e: unknown): void => {
      socket.off('listening', onListening);
      reject(new BindError(describeBindError(e, 'UDP', host, port), e));
    };
    const onListening = (): void => {
      socket.off('error', onError);
      resolve();
    };
    socket.once('error', onError);
    socket.once('listening', onListening);
    socket.bind({ address: host, port, exclusive: true });
  });
}

/** Whether this host lets us listen on address, TCP and UDP (macOS answers only on 127.0.0.1 without aliases). */
export async function canBind(address: string): Promise<boolean> {
  const server = createServer();
  const udp = createSocket('udp4');
  try {
    await listenTcp(server, address, 0);
    await bindUdp(udp, address, 0);
    return true;
  } catch {
    return false;
  } finally {
    if (server.listening) server.close();
    try {
      udp.close();
    } catch {
      // never bound: nothing to close
    }
  }
}
