// MetalLB's BGP custom resources (metallb.io: BGPPeer v1beta2, BGPAdvertisement,
// Community, BFDProfile v1beta1, ServiceBGPStatus) as the speaker reads and writes them,
// and their translation into what bgp/ needs. A field lbc does not implement is named in
// the error, never dropped without a word. Pure, apart from the resource types and the
// probe for whether they are served.
import { parseDuration } from '../../../config/duration.js';
import { asCustomObject, customObjects, listCustomObjects, type CustomObject } from '../../../kube/custom-resources.js';
import type { KubeClients } from '../../../kube/client.js';
import type { ResourceType } from '../../../kube/resources.js';
import type { AdvertisementSpec, PeerSpec } from '../bgp/advertise.js';
import { parseCommunity, resolveCommunity, type Community } from '../bgp/community.js';
import { resourceRef, type ResourceIssue } from '../metallb-resources.js';
import type { LabelSelector } from '../node-selector.js';


export const BGPPeers: ResourceType<CustomObject> = {
  kind: 'BGPPeer',
  apiVersion: 'metallb.io/v1beta2',
  namespaced: true,
  path: '/apis/metallb.io/v1beta2/bgppeers',
  list: listCustomObjects('/apis/metallb.io/v1beta2/bgppeers'),
  decode: asCustomObject,
};

export const BGPAdvertisements: ResourceType<CustomObject> = {
  kind: 'BGPAdvertisement',
  apiVersion: 'metallb.io/v1beta1',
  namespaced: true,
  path: '/apis/metallb.io/v1beta1/bgpadvertisements',
  list: listCustomObjects('/apis/metallb.io/v1beta1/bgpadvertisements'),
  decode: asCustomObject,
};

export const Communities: ResourceType<CustomObject> = {
  kind: 'Community',
  apiVersion: 'metallb.io/v1beta1',
  namespaced: true,
  path: '/apis/metallb.io/v1beta1/communities',
  list: listCustomObjects('/apis/metallb.io/v1beta1/communities'),
  decode: asCustomObject,
};

export const BFDProfiles: ResourceType<CustomObject> = {
  kind: 'BFDProfile',
  apiVersion: 'metallb.io/v1beta1',
  namespaced: true,
  path: '/apis/metallb.io/v1beta1/bfdprofiles',
  list: listCustomObjects('/apis/metallb.io/v1beta1/bfdprofiles'),
  decode: asCustomObject,
};

export const ServiceBGPStatuses: ResourceType<CustomObject> = {
  kind: 'ServiceBGPStatus',
  apiVersion: 'metallb.io/v1beta1',
  namespaced: true,
  path: '/apis/metallb.io/v1beta1/servicebgpstatuses',
  list: listCustomObjects('/apis/metallb.io/v1beta1/servicebgpstatuses'),
  decode: asCustomObject,
};

/** Whether the server serves BGPPeer (metallb.io/v1beta2): MetalLB's BGP CRDs are installed. */
export async function bgpResourcesServed(clients: Pick<KubeClients, 'kc'>, namespace: string): Promise<boolean> {
  try {
    await customObjects(clients, BGPPeers).list(namespace, { limit: 1 });
    return true;
  } catch (e) {
    if ((e as { code?: number }).code === 404) return false;
    throw e;
  }
}


export type Parsed<T> = { readonly ok: true; readonly value: T; readonly warnings: readonly string[] } | { readonly ok: false; readonly reason: string };

type Any = Record<string, unknown>;

function seconds(v: unknown, field: string, fallback: number): number {
  if (v === undefined || v === null || v === '') return fallback;
  const d = parseDuration(v as string);
  if (!d.ok) throw new Error(`spec.${field}: ${d.reason}`);
  return d.ms / 1000;
}

function selectors(v: unknown): LabelSelector[] {
  return Array.isArray(v) ? (v as LabelSelector[]) : [];
}

function asn(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`spec.${field}: ${JSON.stringify(v)} is not an AS number`);
  return v;
}

/** Fields of BGPPeer v1beta2 lbc's native speaker cannot honour: the peer is not used when they are set. */
const PEER_UNSUPPORTED = ['vrf', 'interface', 'localASN', 'dynamicASN', 'passwordSecret', 'enableGracefulRestart'] as const;

export function parsePeer(obj: CustomObject): Parsed<PeerSpec> {
  const name = obj.metadata?.name ?? '';
  const s = (obj.spec ?? {}) as Any;
  try {
    const unsupported = PEER_UNSUPPORTED.filter((f) => s[f] !== undefined && s[f] !== '' && s[f] !== false);
    if (unsupported.length) throw new Error(`${unsupported.map((f) => `spec.${f}`).join(', ')} ${unsupported.length > 1 ? 'are' : 'is'} not supported by lbc's BGP speaker`);
    const warnings: string[] = [];
    if (s.dualStackAddressFamily === true) throw new Error('spec.dualStackAddressFamily is not supported: each session carries its own address family');
    const holdTime = seconds(s.holdTime, 'holdTime', 90);
    if (holdTime !== 0 && holdTime < 3) throw new Error(`spec.holdTime: ${holdTime}s must be 0 or at least 3s`);
    const keepaliveTime = s.keepaliveTime === undefined ? undefined : seconds(s.keepaliveTime, 'keepaliveTime', 0);
    if (keepaliveTime !== undefined && holdTime > 0 && keepaliveTime > holdTime) throw new Error(`spec.keepaliveTime ${keepaliveTime}s is longer than spec.holdTime ${holdTime}s`);
    const peerAddress = typeof s.peerAddress === 'string' ? s.peerAddress : '';
    if (!peerAddress) throw new Error('spec.peerAddress is required');
    return {
      ok: true,
      warnings,
      value: {
        name,
        myAsn: asn(s.myASN, 'myASN'),
        peerAsn: asn(s.peerASN, 'peerASN'),
        peerAddress,
        peerPort: typeof s.peerPort === 'number' ? s.peerPort : 179,
        holdTime,
        ...(keepaliveTime !== undefined ? { keepaliveTime } : {}),
        ...(s.connectTime !== undefined ? { connectTime: seconds(s.connectTime, 'connectTime', 120) } : {}),
        ...(typeof s.routerID === 'string' && s.routerID ? { routerId: s.routerID } : {}),
        ...(typeof s.sourceAddress === 'string' && s.sourceAddress ? { sourceAddress: s.sourceAddress } : {}),
        ...(typeof s.password === 'string' && s.password ? { password: s.password } : {}),
        ebgpMultiHop: s.ebgpMultiHop === true,
        ...(typeof s.bfdProfile === 'string' && s.bfdProfile ? { bfdProfile: s.bfdProfile } : {}),
        nodeSelectors: selectors(s.nodeSelectors),
      },
    };
  } catch (e) {
    return { ok: false, reason: `BGPPeer ${name}: ${(e as Error).message}` };
  }
}

/** Community name → value, from every Community resource (a name defined twice is an error naming both). */
export function communityAliases(objs: readonly CustomObject[]): { aliases: Map<string, string>; errors: { readonly object: CustomObject; readonly message: string }[] } {
  const aliases = new Map<string, string>();
  const where = new Map<string, string>();
  const errors: { object: CustomObject; message: string }[] = [];
  for (const o of objs) {
    for (const c of ((o.spec as Any | undefined)?.communities as { name?: string; value?: string }[] | undefined) ?? []) {
      if (!c.name || !c.value) continue;
      const prev = where.get(c.name);
      if (prev && aliases.get(c.name) !== c.value) errors.push({ object: o, message: `community "${c.name}" is defined by Community ${prev} and Community ${o.metadata?.name}` });
      aliases.set(c.name, c.value);
      where.set(c.name, o.metadata?.name ?? '');
    }
  }
  return { aliases, errors };
}

export function parseAdvertisement(obj: CustomObject, aliases: ReadonlyMap<string, string>): Parsed<AdvertisementSpec> {
  const name = obj.metadata?.name ?? '';
  const s = (obj.spec ?? {}) as Any;
  try {
    const communities: Community[] = [];
    for (const text of (s.communities as string[] | undefined) ?? []) {
      const r = resolveCommunity(text, aliases);
      if (!r.ok) throw new Error(`spec.communities: ${r.reason}`);
      communities.push(r.community);
    }
    const len4 = typeof s.aggregationLength === 'number' ? s.aggregationLength : 32;
    const len6 = typeof s.aggregationLengthV6 === 'number' ? s.aggregationLengthV6 : 128;
    if (len4 < 1 || len4 > 32) throw new Error(`spec.aggregationLength ${len4} is not between 1 and 32`);
    if (len6 < 1 || len6 > 128) throw new Error(`spec.aggregationLengthV6 ${len6} is not between 1 and 128`);
    return {
      ok: true,
      warnings: [],
      value: {
        name,
        aggregationLength: len4,
        aggregationLengthV6: len6,
        ...(typeof s.localPref === 'number' ? { localPref: s.localPref } : {}),
        communities,
        peers: Array.isArray(s.peers) ? (s.peers as string[]) : [],
        nodeSelectors: selectors(s.nodeSelectors),
        ipAddressPools: Array.isArray(s.ipAddressPools) ? (s.ipAddressPools as string[]) : [],
        ipAddressPoolSelectors: selectors(s.ipAddressPoolSelectors),
        serviceSelectors: selectors(s.serviceSelectors),
      },
    };
  } catch (e) {
    return { ok: false, reason: `BGPAdvertisement ${name}: ${(e as Error).message}` };
  }
}

/** BFDProfile's timers, with MetalLB's defaults (300 ms, multiplier 3). */
export interface BfdTimers {
  readonly receiveIntervalMs: number;
  readonly transmitIntervalMs: number;
  readonly detectMultiplier: number;
  readonly passiveMode: boolean;
}

export function parseBfdProfile(obj: CustomObject): Parsed<BfdTimers> {
  const s = (obj.spec ?? {}) as Any;
  const name = obj.metadata?.name ?? '';
  if (s.echoMode === true) return { ok: false, reason: `BFDProfile ${name}: spec.echoMode is not supported by lbc's BFD` };
  return {
    ok: true,
    warnings: [],
    value: {
      receiveIntervalMs: typeof s.receiveInterval === 'number' ? s.receiveInterval : 300,
      transmitIntervalMs: typeof s.transmitInterval === 'number' ? s.transmitInterval : 300,
      detectMultiplier: typeof s.detectMultiplier === 'number' ? s.detectMultiplier : 3,
      passiveMode: s.passiveMode === true,
    },
  };
}

/** The BFD timers of the BFDProfile a peer's spec.bfdProfile names (`profile`, undefined when there is none of that name), or why there are none. */
export function peerBfd(bfdProfile: string, profile: CustomObject | undefined): Parsed<BfdTimers> {
  return profile ? parseBfdProfile(profile) : { ok: false, reason: `BFDProfile ${bfdProfile} does not exist` };
}

export interface BgpResources {
  readonly peers: readonly CustomObject[];
  readonly advertisements: readonly CustomObject[];
  readonly communities: readonly CustomObject[];
  readonly bfdProfiles: readonly CustomObject[];
}

/**
 * What the speaker would refuse in MetalLB's BGP resources, as one issue per object, for
 * the controller's Warning Events: the speaker judges by the same functions, but only
 * logs, on every node. Whether a BGPAdvertisement's pools exist is poolsFromResources'
 * (metallb-resources.ts) business, which knows the pools.
 */
export function bgpResourceIssues(res: BgpResources): ResourceIssue[] {
  const issues: ResourceIssue[] = [];
  const on = (obj: CustomObject, kind: 'BGPPeer' | 'BGPAdvertisement' | 'Community' | 'BFDProfile', message: string): void => {
    issues.push({ object: resourceRef(kind, obj, kind === 'BGPPeer' ? BGPPeers.apiVersion : BGPAdvertisements.apiVersion), message });
  };
  const profiles = new Map(res.bfdProfiles.map((o) => [o.metadata?.name ?? '', o]));
  for (const obj of res.bfdProfiles) {
    const r = parseBfdProfile(obj);
    if (!r.ok) on(obj, 'BFDProfile', r.reason);
  }
  for (const obj of res.peers) {
    const r = parsePeer(obj);
    if (!r.ok) on(obj, 'BGPPeer', `${r.reason}; lbc does not peer with it until this is fixed`);
    else if (r.value.bfdProfile !== undefined) {
      const bfd = peerBfd(r.value.bfdProfile, profiles.get(r.value.bfdProfile));
      if (!bfd.ok) on(obj, 'BGPPeer', `spec.bfdProfile: ${bfd.reason}; lbc does not peer with it until this is fixed`);
    }
  }
  const { aliases, errors } = communityAliases(res.communities);
  for (const e of errors) on(e.object, 'Community', e.message);
  for (const obj of res.communities) {
    ((obj.spec as Any | undefined)?.communities as { name?: string; value?: string }[] | undefined ?? []).forEach((c, i) => {
      const r = c.value ? parseCommunity(c.value) : undefined;
      if (r && !r.ok) on(obj, 'Community', `spec.communities[${i}] (${c.name ?? ''}): ${r.reason}`);
    });
  }
  for (const obj of res.advertisements) {
    const r = parseAdvertisement(obj, aliases);
    if (!r.ok) on(obj, 'BGPAdvertisement', `${r.reason}; the advertisement is not used until this is fixed`);
  }
  return issues;
}
