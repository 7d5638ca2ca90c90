// Node events are batched: many Nodes changing at once cost one recomputation and one
// requeue of the instance-target load balancers.
import type { V1Node } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EligibleNodes } from '../../src/controller/eligible-nodes.js';

const node = (name: string, ready = true): V1Node => ({
  metadata: { name, resourceVersion: '1' },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], addresses: [{ type: 'InternalIP', address: `10.0.0.${name.length}` }] },
});

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('EligibleNodes', () => {
  it('turns 100 Nodes joining over a second into one change', () => {
    const nodes: V1Node[] = [];
    const onChange = vi.fn();
    const e = new EligibleNodes({ list: () => nodes, onChange, hysteresisMs: 0, debounceMs: 200, maxDelayMs: 5000, now: () => Date.now() });
    e.refresh();
    for (let i = 0; i < 100; i++) {
      const n = node(`n${i}`);
      nodes.push(n);
      e.observe(undefined, n);
      vi.advanceTimersByTime(10);
    }
    expect(onChange).not.toHaveBeenCalled();
    vi.advanceTimersByTime(250);
    expect(onChange).toHaveBeenCalledTimes(1);
    expect(e.nodes).toHaveLength(100);
    expect(e.version).toBe(1);
  });

  it('closes a batch at maxDelay however busy the Nodes are, and ignores heartbeats', () => {
    const nodes: V1Node[] = [node('a')];
    const onChange = vi.fn();
    const e = new EligibleNodes({ list: () => nodes, onChange, hysteresisMs: 0, debounceMs: 200, maxDelayMs: 1000, now: () => Date.now() });
    e.refresh();
    const heartbeat = { ...node('a'), metadata: { name: 'a', resourceVersion: '2' } };
    e.observe(nodes[0], heartbeat);
    vi.advanceTimersByTime(500);
    expect(onChange).not.toHaveBeenCalled();
    for (let i = 0; i < 20; i++) {
      const n = node(`busy${i}`);
      nodes.push(n);
      e.observe(undefined, n);
      vi.advanceTimersByTime(100);
    }
    expect(onChange).toHaveBeenCalledTimes(2);
  });

  it('wakes itself when a NotReady node\'s grace period ends', () => {
    const a = node('a');
    const nodes: V1Node[] = [a];
    const onChange = vi.fn();
    const e = new EligibleNodes({ list: () => nodes, onChange, hysteresisMs: 3000, debounceMs: 100, now: () => Date.now() });
    e.refresh();
    nodes[0] = node('a', false);
    e.observe(a, nodes[0]);
    vi.advanceTimersByTime(200);
    expect(e.nodes).toHaveLength(1);
    expect(onChange).not.toHaveBeenCalled();
    vi.advanceTimersByTime(3000);
    expect(e.nodes).toHaveLength(0);
    expect(onChange).toHaveBeenCalledTimes(1);
    e.stop();
  });
});
