// Classic BPF programs for the packet sockets, so the kernel hands the speaker only
// the frames it answers (ARP requests, Neighbor Solicitations) instead of every frame
// on the wire. Pure: the program is bytes; the addon attaches it.
import { endianness } from 'node:os';
import { ETHERTYPE_ARP, ETHERTYPE_IPV6 } from './link.js';

const LD_H_ABS = 0x28;
const LD_B_ABS = 0x30;
const JEQ_K = 0x15;
const RET_K = 0x06;
const ACCEPT_BYTES = 0x40000;

interface Insn {
  readonly code: number;
  readonly k: number;
  /** Jump targets by label; resolved to relative offsets at assembly. */
  readonly jt?: string;
  readonly jf?: string;
  readonly label?: string;
}

function assemble(program: readonly Insn[]): Buffer {
  const at = new Map<string, number>();
  program.forEach((ins, i) => ins.label && at.set(ins.label, i));
  const le = endianness() === 'LE';
  const out = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    const rel = (label: string | undefined): number => {
      if (label === undefined) return 0;
      const target = at.get(label);
      if (target === undefined || target <= i || target - i - 1 > 255) throw new Error(`bpf: bad jump to ${label} from ${i}`);
      return target - i - 1;
    };
    const o = i * 8;
    if (le) out.writeUInt16LE(ins.code, o);
    else out.writeUInt16BE(ins.code, o);
    out[o + 2] = rel(ins.jt);
    out[o + 3] = rel(ins.jf);
    if (le) out.writeUInt32LE(ins.k >>> 0, o + 4);
    else out.writeUInt32BE(ins.k >>> 0, o + 4);
  });
  return out;
}

export interface FrameSelection {
  /** ARP operations to accept (1 request, 2 reply). */
  readonly arpOps?: readonly number[];
  /** ICMPv6 types to accept, when ICMPv6 directly follows the IPv6 header. */
  readonly icmpv6Types?: readonly number[];
}

/** A filter accepting exactly the selected ARP operations and ICMPv6 types. */
export function frameFilter(sel: FrameSelection): Buffer {
  const arpOps = sel.arpOps ?? [];
  const icmpTypes = sel.icmpv6Types ?? [];
  const p: Insn[] = [{ code: LD_H_ABS, k: 12 }];
  p.push({ code: JEQ_K, k: ETHERTYPE_ARP, jt: 'arp', jf: 'not-arp' });
  p.push({ code: LD_H_ABS, k: 20, label: 'arp' });
  arpOps.forEach((op, i) => p.push({ code: JEQ_K, k: op, jt: 'accept', jf: i === arpOps.length - 1 ? 'drop' : `arp${i + 1}`, ...(i > 0 ? { label: `arp${i}` } : {}) }));
  if (arpOps.length === 0) p.push({ code: RET_K, k: 0 });
  // After the ARP branch the accumulator still holds the EtherType when we get here.
  p.push({ code: LD_H_ABS, k: 12, label: 'not-arp' });
  p.push({ code: JEQ_K, k: ETHERTYPE_IPV6, jt: 'v6', jf: 'drop' });
  p.push({ code: LD_B_ABS, k: 20, label: 'v6' });
  p.push({ code: JEQ_K, k: 58, jt: 'icmp', jf: 'drop' });
  p.push({ code: LD_B_ABS, k: 54, label: 'icmp' });
  icmpTypes.forEach((t, i) =>
    p.push({ code: JEQ_K, k: t, jt: 'accept', jf: i === icmpTypes.length - 1 ? 'drop' : `icmp${i + 1}`, ...(i > 0 ? { label: `icmp${i}` } : {}) }),
  );
  if (icmpTypes.length === 0) p.push({ code: RET_K, k: 0 });
  p.push({ code: RET_K, k: ACCEPT_BYTES, label: 'accept' });
  p.push({ code: RET_K, k: 0, label: 'drop' });
  return assemble(p);
}

/** Runs a program on a frame the way the kernel would: the number of bytes it keeps (0 drops). For tests. */
export function runFilter(program: Buffer, frame: Uint8Array): number {
  const le = endianness() === 'LE';
  let acc = 0;
  for (let pc = 0; pc * 8 < program.length; ) {
    const o = pc * 8;
    const code = le ? program.readUInt16LE(o) : program.readUInt16BE(o);
    const jt = program[o + 2] ?? 0;
    const jf = program[o + 3] ?? 0;
    const k = le ? program.readUInt32LE(o + 4) : program.readUInt32BE(o + 4);
    switch (code) {
      case LD_H_ABS:
        if (k + 2 > frame.length) return 0;
        acc = ((frame[k] ?? 0) << 8) | (frame[k + 1] ?? 0);
        pc++;
        break;
      case LD_B_ABS:
        if (k + 1 > frame.length) return 0;
        acc = frame[k] ?? 0;
        pc++;
        break;
      case JEQ_K:
        pc += 1 + (acc === k ? jt : jf);
        break;
      case RET_K:
        return Math.min(k, frame.length);
      default:
        throw new Error(`runFilter: unsupported opcode ${code}`);
    }
  }
  return 0;
}
