// What the CRD contract files share: the upstream CRD files in ../shared/crds, installing
// one on the cluster under test (replacing what an earlier file or run left), and waiting
// until it is Established.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { eventually, expectOk, type Ctx, type Json } from './support.js';

export const CRDS = new URL('../../../shared/crds/', import.meta.url).pathname;
export const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

export function crdFiles(sub: string): string[] {
  return readdirSync(join(CRDS, sub))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(CRDS, sub, f));
}

export function crdsIn(file: string): Json[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJSON()).filter((d: Json) => d?.kind === 'CustomResourceDefinition');
}

/** Creates the CRD, or replaces the one a previous file (or run) installed under the same name. */
export async function installCrd(ctx: Ctx, crd: Json): Promise<void> {
  const created = await ctx.raw('POST', CRD_PATH, { body: crd });
  if (created.status === 201) return;
  expect(created.status, created.text.slice(0, 300)).toBe(409);
  const current = expectOk(await ctx.raw('GET', `${CRD_PATH}/${crd.metadata.name}`));
  expectOk(await ctx.raw('PUT', `${CRD_PATH}/${crd.metadata.name}`, { body: { ...crd, metadata: { ...crd.metadata, resourceVersion: current.metadata.resourceVersion } } }), 200);
}

export async function crdEstablished(ctx: Ctx, name: string): Promise<Json> {
  return eventually(async () => {
    const crd = expectOk(await ctx.raw('GET', `${CRD_PATH}/${name}`));
    const conds = Object.fromEntries((crd.status?.conditions ?? []).map((c: Json) => [c.type, c.status]));
    expect(conds).toMatchObject({ NamesAccepted: 'True', Established: 'True' });
    return crd;
  }, 20_000);
}
