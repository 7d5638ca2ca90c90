// Which load balancers and target groups carry this cluster's tag. ELBv2 cannot filter
// by tag, so finding them means listing everything and reading tags 20 ARNs at a time;
// that scan runs once (lazily), again every `inventoryRefresh`, whenever garbage
// collection asks, and whenever a create may have landed without lbc hearing the answer.
// In between, lbc's own creates and deletes keep it current, so an ensure costs no scan.
import { DescribeLoadBalancersCommand, DescribeTagsCommand, DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { LbRef } from '../../model/ref.js';
import { TAG_OWNER_UID } from '../../model/spec.js';
import { ProviderError } from '../types.js';
import type { AwsApi } from './api.js';
import { fromAwsTags, ownedByCluster, type Tags } from './tags.js';

export type ElbResourceKind = 'lb' | 'tg';

interface Entry {
  readonly kind: ElbResourceKind;
  readonly tags: Tags;
}

const TAG_BATCH = 20;

/** Tags of up to any number of ELBv2 ARNs (load balancers, target groups, listeners, rules), 20 per call. */
export async function describeTags(api: AwsApi, arns: readonly string[], signal?: AbortSignal): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  for (let i = 0; i < arns.length; i += TAG_BATCH) {
    const batch = arns.slice(i, i + TAG_BATCH);
    try {
      const r = await api.elbv2('DescribeTags', (c, o) => c.send(new DescribeTagsCommand({ ResourceArns: batch }), o), { signal });
      for (const d of r.TagDescriptions ?? []) if (d.ResourceArn) out.set(d.ResourceArn, fromAwsTags(d.Tags));
    } catch (e) {
      // One ARN deleted since it was listed fails the whole batch; ask one by one and skip the gone.
      if (!(e instanceof ProviderError && e.kind === 'notFound') || batch.length === 1) {
        if (e instanceof ProviderError && e.kind === 'notFound') continue;
        throw e;
      }
      for (const arn of batch) {
        const one = await describeTags(api, [arn], signal);
        for (const [k, v] of one) out.set(k, v);
      }
    }
  }
  return out;
}

export class Inventory {
  private entries = new Map<string, Entry>();
  private scannedAt: number | undefined;
  private scanning: Promise<void> | undefined;
  /** Changes made while a scan was running, replayed over its result. */
  private local: { arn: string; entry: Entry | undefined }[] = [];
  private uncertain = false;

  constructor(
    private readonly api: AwsApi,
    private readonly clusterName: string,
    private readonly refreshMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A create failed in a way that may have created the resource anyway: the next read rescans. */
  markUncertain(): void {
    this.uncertain = true;
  }

  async forRef(ref: LbRef, signal?: AbortSignal): Promise<{ lbs: string[]; tgs: string[] }> {
    await this.fresh(signal);
    const lbs: string[] = [];
    const tgs: string[] = [];
    for (const [arn, e] of this.entries) {
      if (e.tags[TAG_OWNER_UID] !== ref.uid) continue;
      (e.kind === 'lb' ? lbs : tgs).push(arn);
    }
    return { lbs: lbs.sort(), tgs: tgs.sort() };
  }

  /** Everything tagged for the cluster, rescanned first when `force`. */
  async all(signal?: AbortSignal, force = false): Promise<ReadonlyMap<string, { kind: ElbResourceKind; tags: Tags }>> {
    if (force) await this.scan(signal);
    else await this.fresh(signal);
    return new Map(this.entries);
  }

  note(arn: string, kind: ElbResourceKind, tags: Tags): void {
    const entry = { kind, tags };
    this.entries.set(arn, entry);
    if (this.scanning) this.local.push({ arn, entry });
  }

  forget(arn: string): void {
    this.entries.delete(arn);
    if (this.scanning) this.local.push({ arn, entry: undefined });
  }

  private async fresh(signal?: AbortSignal): Promise<void> {
    if (this.uncertain || this.scannedAt === undefined || this.now() - this.scannedAt >= this.refreshMs) await this.scan(signal);
  }

  private scan(signal?: AbortSignal): Promise<void> {
    // Concurrent callers share one scan rather than each listing the account.
    this.scanning ??= this.doScan(signal).finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  private async doScan(signal?: AbortSignal): Promise<void> {
    this.local = [];
    this.uncertain = false;
    const started = this.now();
    try {
      const lbArns: string[] = [];
      let Marker: string | undefined;
      do {
        const page = await this.api.elbv2('DescribeLoadBalancers', (c, o) => c.send(new DescribeLoadBalancersCommand({ PageSize: 400, ...(Marker ? { Marker } : {}) }), o), { signal });
        for (const lb of page.LoadBalancers ?? []) if (lb.LoadBalancerArn) lbArns.push(lb.LoadBalancerArn);
        Marker = page.NextMarker;
      } while (Marker);
      const tgArns: string[] = [];
      Marker = undefined;
      do {
        const page = await this.api.elbv2('DescribeTargetGroups', (c, o) => c.send(new DescribeTargetGroupsCommand({ PageSize: 400, ...(Marker ? { Marker } : {}) }), o), { signal });
        for (const tg of page.TargetGroups ?? []) if (tg.TargetGroupArn) tgArns.push(tg.TargetGroupArn);
        Marker = page.NextMarker;
      } while (Marker);
      const tags = await describeTags(this.api, [...lbArns, ...tgArns], signal);
      const next = new Map<string, Entry>();
      for (const [arns, kind] of [
        [lbArns, 'lb'],
        [tgArns, 'tg'],
      ] as const) {
        for (const arn of arns) {
          const t = tags.get(arn);
          if (t && ownedByCluster(t, this.clusterName)) next.set(arn, { kind, tags: t });
        }
      }
      for (const { arn, entry } of this.local) {
        if (entry) next.set(arn, entry);
        else next.delete(arn);
      }
      this.entries = next;
      this.scannedAt = started;
    } catch (e) {
      // A half-read account must not pass for a complete one.
      this.uncertain = true;
      throw e;
    } finally {
      this.local = [];
    }
  }
}
