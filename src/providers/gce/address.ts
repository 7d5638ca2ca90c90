// Addresses: the static IP of a load balancer. lbc reserves its own (named like the LB,
// described as lbc's) and releases it with the LB; an address the user reserved and
// asked for (spec.loadBalancerIP, kubernetes.io/ingress.global-static-ip-name) is only
// read, never changed or released. Type, tier, subnet and the IP itself cannot change
// in place: a change replaces the address (and the forwarding rules using it).
import type { protos } from '@google-cloud/compute';
import { isNotFound } from './errors.js';
import type { CallContext, Diff, Key, Kind } from './kind.js';
import { nameOf, sameLink } from './links.js';

export type Address = protos.google.cloud.compute.v1.IAddress;

function diffAddress(want: Address, have: Address): Diff {
  if ((want.addressType ?? 'EXTERNAL') !== (have.addressType ?? 'EXTERNAL')) return { fields: [], replace: `address type ${have.addressType} → ${want.addressType}` };
  if (want.networkTier && (have.networkTier ?? 'PREMIUM') !== want.networkTier) return { fields: [], replace: `network tier ${have.networkTier ?? 'PREMIUM'} → ${want.networkTier}` };
  if (want.subnetwork && !sameLink(want.subnetwork, have.subnetwork)) return { fields: [], replace: `subnetwork ${nameOf(have.subnetwork)} → ${nameOf(want.subnetwork)}` };
  if (want.address && want.address !== have.address) return { fields: [], replace: `IP ${have.address ?? ''} → ${want.address}` };
  return { fields: [] };
}

const noUpdate = (): Promise<void> => Promise.resolve();

export const regionalAddressKind: Kind<Address> = {
  resource: 'Address',
  rank: 10,
  get: ({ compute, signal }, key) =>
    compute.readOptional('addresses.get', key.name, signal, (o) => compute.addresses.get({ project: compute.project, region: compute.region, address: key.name }, o)),
  insert: ({ compute, signal }, key, body) =>
    compute.write('addresses.insert', key.name, signal, (o) =>
      compute.addresses.insert({ project: compute.project, region: compute.region, addressResource: { ...body, name: key.name } }, o),
    ),
  remove: async ({ compute, signal }, key) => {
    try {
      await compute.write('addresses.delete', key.name, signal, (o) => compute.addresses.delete({ project: compute.project, region: compute.region, address: key.name }, o));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
  diff: diffAddress,
  update: noUpdate,
};

export const globalAddressKind: Kind<Address> = {
  resource: 'GlobalAddress',
  rank: 10,
  get: ({ compute, signal }, key) =>
    compute.readOptional('globalAddresses.get', key.name, signal, (o) => compute.globalAddresses.get({ project: compute.project, address: key.name }, o)),
  insert: ({ compute, signal }, key, body) =>
    compute.write('globalAddresses.insert', key.name, signal, (o) =>
      compute.globalAddresses.insert({ project: compute.project, addressResource: { ...body, name: key.name } }, o),
    ),
  remove: async ({ compute, signal }, key) => {
    try {
      await compute.write('globalAddresses.delete', key.name, signal, (o) => compute.globalAddresses.delete({ project: compute.project, address: key.name }, o));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
  diff: diffAddress,
  update: noUpdate,
};

/** The regional address holding ip, if one is reserved (upstream's GetRegionAddressByIP). */
export async function regionalAddressByIp(ctx: CallContext, ip: string): Promise<Address | undefined> {
  const { compute, signal } = ctx;
  const found = await compute.list('addresses.list', ip, signal, (o) =>
    compute.addresses.list({ project: compute.project, region: compute.region, filter: `address eq "${ip}"` }, o),
  );
  return found.find((a) => a.address === ip);
}

export const addressKey = (name: string): Key => ({ name });
