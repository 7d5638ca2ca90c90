// GatewayClasses end to end (the Gateway API v1.4.0 CRDs on devcluster or the real control
// plane): an lbc configured with its own gateway.controllerName serves only the classes of
// that name, so two installs never write the same class; while Gateways of a class exist the
// class carries the specification's gateway-exists finalizer, and loses it with the last one,
// so the class can be deleted then (and not before).
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installGatewayApiCrds } from '../support/gateway-crds.js';
import { FINALIZER as LBC_FINALIZER } from '../../src/controller/reconcile.js';
import type { Gateway, GatewayClass } from '../../src/kube/gateway-api.js';
import { E2E, eventually } from './harness.js';

const GROUP = 'gateway.networking.k8s.io';
const FINALIZER = 'gateway-exists-finalizer.gateway.networking.k8s.io';
const OURS = 'example.com/lbc-second';

let e: E2E;
let custom: CustomObjectsApi;
let ours: string;
let theirs: string;

const gatewayClass = (name: string): Promise<GatewayClass> => custom.getClusterCustomObject({ group: GROUP, version: 'v1', plural: 'gatewayclasses', name }) as Promise<GatewayClass>;
const createClass = (name: string, controllerName: string): Promise<unknown> =>
  custom.createClusterCustomObject({
    group: GROUP,
    version: 'v1',
    plural: 'gatewayclasses',
    body: { apiVersion: `${GROUP}/v1`, kind: 'GatewayClass', metadata: { name }, spec: { controllerName, parametersRef: { group: 'lbc.dev', kind: 'Provider', name: 'mem' } } },
  });
const createGateway = (name: string, className: string): Promise<unknown> =>
  custom.createNamespacedCustomObject({
    group: GROUP,
    version: 'v1',
    namespace: e.ns,
    plural: 'gateways',
    body: { apiVersion: `${GROUP}/v1`, kind: 'Gateway', metadata: { name }, spec: { gatewayClassName: className, listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
  });
const deleteGateway = (name: string): Promise<unknown> => custom.deleteNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'gateways', name });
const gone = async (read: () => Promise<unknown>): Promise<true | undefined> => (await read().then(() => false, (err: { code?: number }) => err.code === 404)) || undefined;

beforeAll(async () => {
  e = await E2E.start({
    noStart: true,
    config: { gateway: { controllerName: OURS }, providers: [{ name: 'mem', type: 'memory', options: { addressPool: '198.51.100.0/24', layers: ['L4', 'L7', 'Gateway'] } }] },
  });
  custom = e.clients.kc.makeApiClient(CustomObjectsApi);
  await installGatewayApiCrds(e.clients.kc);
  await e.controller.start();
  ours = `second-${e.ns}`;
  theirs = `default-${e.ns}`;
  await createClass(ours, OURS);
  // Another lbc install's class (the default controllerName): this one must leave it alone.
  await createClass(theirs, 'lbc.dev/gateway-controller');
}, 60_000);

afterAll(async () => {
  for (const name of [ours, theirs]) {
    const gc = await gatewayClass(name).catch(() => undefined);
    // Another controller's finalizer would keep the class, and the next run's name differs anyway.
    if (gc?.metadata?.finalizers?.length) await custom.patchClusterCustomObject({ group: GROUP, version: 'v1', plural: 'gatewayclasses', name, body: [{ op: 'remove', path: '/metadata/finalizers' }] }).catch(() => {});
    await custom.deleteClusterCustomObject({ group: GROUP, version: 'v1', plural: 'gatewayclasses', name }).catch(() => {});
  }
  await e?.stop();
});

describe('GatewayClass', () => {
  it("serves the classes of its configured controllerName and leaves another install's class without status or finalizer", async () => {
    await eventually('our class accepted', async () => ((await gatewayClass(ours)).status?.conditions?.find((c) => c.type === 'Accepted')?.status === 'True' ? true : undefined));
    await createGateway('theirs', theirs);
    e.controller.enqueueAll();
    await e.controller.idle();
    const other = await gatewayClass(theirs);
    expect(other.status?.conditions?.find((c) => c.reason === 'Accepted')).toBeUndefined();
    expect(other.metadata?.finalizers ?? []).toEqual([]);
    expect(e.provider('mem').loadBalancers().some((l) => l.ref.kind === 'Gateway' && l.ref.name === 'theirs')).toBe(false);
    await deleteGateway('theirs');
  });

  it("leaves another install's Gateway, lbc's finalizer included, as it is, even while it is deleted", async () => {
    // The other install put lbc's finalizer (the same name for every install) on its Gateway.
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: 'v1',
      namespace: e.ns,
      plural: 'gateways',
      body: { apiVersion: `${GROUP}/v1`, kind: 'Gateway', metadata: { name: 'held', finalizers: [LBC_FINALIZER] }, spec: { gatewayClassName: theirs, listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
    });
    const read = (): Promise<Gateway> => custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'gateways', name: 'held' }) as Promise<Gateway>;
    // As created: none on devcluster, the CRD's defaulted Pending conditions on kube-apiserver.
    const before = (await read()).status?.conditions ?? [];
    e.controller.enqueueAll();
    await e.controller.idle();
    await deleteGateway('held');
    e.controller.enqueueAll();
    await e.controller.idle();
    const held = await read();
    expect(held.metadata?.deletionTimestamp).toBeDefined();
    expect(held.metadata?.finalizers).toEqual([LBC_FINALIZER]);
    expect(held.status?.conditions ?? []).toEqual(before);
    await custom.patchNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'gateways', name: 'held', body: [{ op: 'remove', path: '/metadata/finalizers' }] });
  });

  it('holds the gateway-exists finalizer while Gateways of the class exist, and drops it with the last one', async () => {
    expect((await gatewayClass(ours)).metadata?.finalizers ?? []).not.toContain(FINALIZER);
    await createGateway('a', ours);
    await createGateway('b', ours);
    await eventually('finalizer on the class', async () => ((await gatewayClass(ours)).metadata?.finalizers?.includes(FINALIZER) ? true : undefined), 20_000);

    // Deleting the class now only marks it: the finalizer keeps it for Gateways a and b.
    await custom.deleteClusterCustomObject({ group: GROUP, version: 'v1', plural: 'gatewayclasses', name: ours });
    await deleteGateway('a');
    await eventually('Gateway a gone', () => gone(() => custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'gateways', name: 'a' })), 20_000);
    await e.controller.idle();
    const held = await gatewayClass(ours);
    expect(held.metadata?.deletionTimestamp).toBeDefined();
    expect(held.metadata?.finalizers).toContain(FINALIZER);

    await deleteGateway('b');
    await eventually('class gone with the last Gateway', () => gone(() => gatewayClass(ours)), 20_000);
  });
});
