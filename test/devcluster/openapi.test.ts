// /openapi/v3 documents are built once per set of resource types: kubectl fetches the index
// on every command, and a CRD group-version's document (Gateway API's schemas) takes
// milliseconds to build and hash. What is published is held to kube-apiserver by the
// contract suite (crds-openapi.test.ts); this pins when it is rebuilt.
import { describe, expect, it } from 'vitest';
import { OpenApiV3 } from '../../src/devcluster/openapi.js';
import { builtinResources, type ResourceType } from '../../src/devcluster/resources.js';

function widget(description: string): ResourceType {
  return {
    group: 'probe.lbc.dev', version: 'v1', plural: 'widgets', singular: 'widget', kind: 'Widget', namespaced: true, shortNames: [],
    statusSubresource: false, generation: true, resetStatusOnCreate: false, nameRule: 'dns1123-subdomain', fieldSelectors: [],
    unconditionalUpdate: true, createOnUpdate: false, returnDeletedObject: false, internalGroup: 'probe.lbc.dev', customResource: true,
    openapiSchema: { type: 'object', properties: { spec: { type: 'object', description } } },
  };
}

describe('OpenApiV3', () => {
  const builtins = builtinResources();

  it('serves the same document, under the same hash, while the resource types stay the same objects', () => {
    const api = new OpenApiV3();
    const w = widget('first');
    const root = api.root([...builtins, w]);
    const doc = api.groupVersion([...builtins, w], 'apis/probe.lbc.dev/v1');
    expect(api.root([...builtins, w])).toEqual(root);
    expect(api.groupVersion([...builtins, w], 'apis/probe.lbc.dev/v1')).toBe(doc);
    expect((doc as { components: { schemas: Record<string, { properties: { spec: unknown } }> } }).components.schemas['dev.lbc.probe.v1.Widget']!.properties.spec).toEqual({ type: 'object', description: 'first' });
  });

  it('rebuilds a group-version whose types changed, changing its hash and no other', () => {
    const api = new OpenApiV3();
    const before = api.root([...builtins, widget('first')]).paths as Record<string, { serverRelativeURL: string }>;
    const after = api.root([...builtins, widget('second')]).paths as Record<string, { serverRelativeURL: string }>;
    expect(after['apis/probe.lbc.dev/v1']!.serverRelativeURL).not.toBe(before['apis/probe.lbc.dev/v1']!.serverRelativeURL);
    expect(after['apis/probe.lbc.dev/v1']!.serverRelativeURL).toMatch(/^\/openapi\/v3\/apis\/probe\.lbc\.dev\/v1\?hash=[0-9A-F]{128}$/);
    expect(after['api/v1']).toEqual(before['api/v1']);
    expect(api.groupVersion([...builtins, widget('second')], 'apis/probe.lbc.dev/v1')).toBeDefined();
    // Gone with its types.
    expect(api.root(builtins).paths).not.toHaveProperty('apis/probe.lbc.dev/v1');
    expect(api.groupVersion(builtins, 'apis/probe.lbc.dev/v1')).toBeUndefined();
  });
});
