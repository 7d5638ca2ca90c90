// Inside a namespace of its own (only its loopback): a packet socket opened after another
// was closed (so it gets the same fd number) must keep receiving after the GC finalizes
// the closed one. Prints what the second socket received before and after the GC.
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildArpRequest, ARP_REQUEST } from '../../../../src/providers/metal/speaker/arp.js';
import { frameFilter } from '../../../../src/providers/metal/speaker/bpf.js';
import { PacketSocket } from '../../../../src/providers/metal/speaker/packet-socket.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ifindex = Number(readFileSync('/sys/class/net/lo/ifindex', 'utf8').trim());
const filter = frameFilter({ arpOps: [ARP_REQUEST] });

// Kept only in a scope that ends, so that nothing but the GC's finalizer releases it.
(() => new PacketSocket(ifindex, filter, () => {}).close())();
let received = 0;
const second = new PacketSocket(ifindex, filter, () => received++);
const sender = new PacketSocket(ifindex, frameFilter({}), () => {});
const frame = buildArpRequest(Buffer.from([2, 0, 0, 0, 0, 1]), '127.0.0.1', '127.0.0.2');

sender.send(frame);
await sleep(100);
const before = received;
for (let i = 0; i < 3; i++) {
  gc();
  await sleep(50);
}
sender.send(frame);
await sleep(200);
console.log(JSON.stringify({ before, after: received - before }));
second.close();
sender.close();
process.exit(0);
