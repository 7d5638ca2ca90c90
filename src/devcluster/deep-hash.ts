// Orderings that kube-controller-manager derives from hashutil.DeepHashObject: an md5 of
// go-spew's `%#v` rendering (types shown, pointers followed, no addresses). The endpoint
// and endpointslice controllers sort ports and Endpoints subsets by these hashes, so
// reproducing the rendering reproduces the real order byte for byte.
import { createHash } from 'node:crypto';

export interface SlicePort {
  name?: string;
  protocol?: string;
  port?: number;
  appProtocol?: string;
}

export interface CorePort {
  name?: string;
  port: number;
  protocol?: string;
  appProtocol?: string;
}

export interface ObjectRef {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: ObjectRef;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: CorePort[];
}

function md5hex(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

const ptr = (type: string, v: string | number | undefined): string => (v === undefined ? `(*${type})<nil>` : `(*${type})${v}`);

/** discovery/v1 EndpointPort: every field is a pointer. */
export function spewSlicePort(p: SlicePort): string {
  return `(v1.EndpointPort){Name:${ptr('string', p.name)} Protocol:${ptr('v1.Protocol', p.protocol)} Port:${ptr('int32', p.port)} AppProtocol:${ptr('string', p.appProtocol)}}`;
}

function corePortBody(p: CorePort): string {
  return `{Name:(string)${p.name ?? ''} Port:(int32)${p.port} Protocol:(v1.Protocol)${p.protocol ?? ''} AppProtocol:${ptr('string', p.appProtocol)}}`;
}

/** core/v1 EndpointPort. */
function spewCorePort(p: CorePort): string {
  return `(v1.EndpointPort)${corePortBody(p)}`;
}

function refBody(r: ObjectRef): string {
  return `{Kind:(string)${r.kind ?? ''} Namespace:(string)${r.namespace ?? ''} Name:(string)${r.name ?? ''} UID:(types.UID)${r.uid ?? ''} APIVersion:(string)${r.apiVersion ?? ''} ResourceVersion:(string)${r.resourceVersion ?? ''} FieldPath:(string)${r.fieldPath ?? ''}}`;
}

function addressBody(a: EndpointAddress): string {
  const ref = a.targetRef ? `(*v1.ObjectReference)${refBody(a.targetRef)}` : '(*v1.ObjectReference)<nil>';
  return `{IP:(string)${a.ip} Hostname:(string)${a.hostname ?? ''} NodeName:${ptr('string', a.nodeName)} TargetRef:${ref}}`;
}

function list<T>(type: string, items: T[] | undefined, body: (x: T) => string): string {
  // A nil slice prints <nil>, an empty one []: subsets built by RepackSubsets use nil.
  return items === undefined ? `(${type})<nil>` : `(${type})[${items.map(body).join(' ')}]`;
}

export function spewSubset(s: EndpointSubset): string {
  return `(v1.EndpointSubset){Addresses:${list('[]v1.EndpointAddress', s.addresses, addressBody)} NotReadyAddresses:${list('[]v1.EndpointAddress', s.notReadyAddresses, addressBody)} Ports:${list('[]v1.EndpointPort', s.ports, corePortBody)}}`;
}

const hashCache = new Map<string, string>();

/** md5 of a rendering, cached: port renderings repeat for every pod of a Service. */
function cachedHash(rendering: string): string {
  let h = hashCache.get(rendering);
  if (h === undefined) {
    if (hashCache.size > 20000) hashCache.clear();
    h = md5hex(rendering);
    hashCache.set(rendering, h);
  }
  return h;
}

function sortByHash<T>(items: T[], render: (x: T) => string): T[] {
  return items
    .map((x) => ({ x, h: cachedHash(render(x)) }))
    .sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : 0))
    .map((e) => e.x);
}

/** endpointutil.NewPortMapKey sorts a slice's ports this way before hashing them. */
export function sortSlicePorts(ports: SlicePort[]): SlicePort[] {
  return sortByHash(ports, spewSlicePort);
}

export function sortCorePorts(ports: CorePort[]): CorePort[] {
  return sortByHash(ports, spewCorePort);
}

/** endpoints.LessEndpointAddress: by IP bytes, then target UID. */
export function lessAddress(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  if (!a.targetRef || !b.targetRef) return a.targetRef ? 1 : b.targetRef ? -1 : 0;
  const ua = a.targetRef.uid ?? '';
  const ub = b.targetRef.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/** endpoints.SortSubsets. */
export function sortSubsets(subsets: EndpointSubset[]): EndpointSubset[] {
  for (const s of subsets) {
    s.addresses?.sort(lessAddress);
    s.notReadyAddresses?.sort(lessAddress);
    if (s.ports) s.ports = sortCorePorts(s.ports);
  }
  return subsets
    .map((s) => ({ s, h: md5hex(spewSubset(s)) }))
    .sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : 0))
    .map((e) => e.s);
}
