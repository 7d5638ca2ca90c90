// The benches' count of a controller's writes: every write call by method, each reported
// to the listener as it starts and ends, other calls passed through as they are.
import { describe, expect, it } from 'vitest';
import { countingApi, countingClients, type WriteListener } from '../../bench/api-writes.js';

class Api {
  calls: string[] = [];
  patchThing(p: { name: string }): Promise<string> {
    this.calls.push(`patch ${p.name}`);
    return Promise.resolve(`patched ${p.name}`);
  }
  createThing(p: { name: string }): string {
    this.calls.push(`create ${p.name}`);
    return `created ${p.name}`;
  }
  readThing(p: { name: string }): string {
    this.calls.push(`read ${p.name}`);
    return p.name;
  }
}

describe('countingApi', () => {
  it('counts every write by method, tells the listener of its start and its end, and passes reads through', async () => {
    const api = new Api();
    const writes = new Map<string, number>();
    const log: string[] = [];
    const onWrite: WriteListener = (method, args) => {
      log.push(`start ${method} ${(args[0] as { name: string }).name}`);
      return () => log.push(`end ${method}`);
    };
    const counted = countingApi(api, writes, onWrite);
    const first = counted.patchThing;
    await expect(counted.patchThing({ name: 'a' })).resolves.toBe('patched a');
    await expect(counted.patchThing({ name: 'b' })).resolves.toBe('patched b');
    expect(counted.createThing({ name: 'c' })).toBe('created c');
    expect(counted.readThing({ name: 'd' })).toBe('d');
    expect(counted.readThing).toBe(Api.prototype.readThing);
    // One wrapper per method, made once.
    expect(counted.patchThing).toBe(first);
    expect(api.calls).toEqual(['patch a', 'patch b', 'create c', 'read d']);
    expect(Object.fromEntries(writes)).toEqual({ patchThing: 2, createThing: 1 });
    expect(log).toEqual(['start patchThing a', 'end patchThing', 'start patchThing b', 'end patchThing', 'start createThing c']);
  });

  it('counts through a method replaced on the object after it was first used', async () => {
    const api = new Api();
    const writes = new Map<string, number>();
    const counted = countingApi(api, writes);
    await counted.patchThing({ name: 'a' });
    api.patchThing = (p) => Promise.resolve(`replaced ${p.name}`);
    await expect(counted.patchThing({ name: 'b' })).resolves.toBe('replaced b');
    expect(writes.get('patchThing')).toBe(2);
  });

  it('wraps the clients that write, sharing one count', async () => {
    const core = new Api();
    const networking = new Api();
    const { clients, writes } = countingClients({ core, networking, other: 1 });
    await clients.core.patchThing({ name: 'a' });
    clients.networking.createThing({ name: 'b' });
    expect(clients.other).toBe(1);
    expect(Object.fromEntries(writes)).toEqual({ patchThing: 1, createThing: 1 });
  });
});
