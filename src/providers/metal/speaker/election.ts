// Election without talking: every speaker ranks the same candidate nodes for an address
// the same way, and the first one announces it. The rank is a hash of node and address
// (as MetalLB's layer-2 mode), so addresses spread over the nodes instead of all landing
// on one, and when a node goes only its addresses move. Pure.
import { createHash } from 'node:crypto';

function score(node: string, ip: string): string {
  return createHash('sha256').update(`${node}#${ip}`).digest('hex');
}

/** Candidates for `ip`, best first. Deterministic: same set, same order, on every node. */
export function rankCandidates(ip: string, nodes: Iterable<string>): string[] {
  return [...new Set(nodes)]
    .map((node) => ({ node, s: score(node, ip) }))
    .sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
    .map((x) => x.node);
}

/** The node that announces `ip`, or undefined when there is no candidate. */
export function electedFor(ip: string, nodes: Iterable<string>): string | undefined {
  return rankCandidates(ip, nodes)[0];
}
