// The speaker's Prometheus metrics (`lbc speaker --metrics-bind-address`), read from the
// speaker when scraped, as the controller's are. On a registry of their own: the speaker
// is a separate program and must not expose the controller's series at zero.
import { Counter, Gauge, Registry } from 'prom-client';
import type { SpeakerStats } from '../providers/metal/speaker/speaker.js';
import { enableProcessMetrics } from './metrics.js';

export function speakerRegistry(source: { stats(): SpeakerStats }): Registry {
  const registry = new Registry();
  enableProcessMetrics(registry);
  const registers = [registry];
  new Gauge({
    name: 'lbc_speaker_peers_on_lease_fallback',
    help: 'Peer speakers alive by their Lease alone: heartbeats between them and this node are lost (UDP gossip port blocked?); their addresses fail over at Lease speed',
    registers,
    collect() {
      this.set(source.stats().peersOnLease);
    },
  });
  new Counter({
    name: 'lbc_speaker_lease_fallbacks_total',
    help: 'Times a peer speaker became alive by its Lease alone',
    registers,
    collect() {
      this.reset();
      this.inc(source.stats().leaseFallbacks);
    },
  });
  new Gauge({
    name: 'lbc_speaker_announced_addresses',
    help: 'Load balancer addresses this node announces (ARP/NDP) now',
    registers,
    collect() {
      this.set(source.stats().announced);
    },
  });
  return registry;
}
