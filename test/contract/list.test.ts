// Contract: list with label selectors, field selectors and limit/continue pagination.
import { beforeAll, describe, expect, it } from 'vitest';
import { corePath, expectOk, expectStatus, uniqueName, useContractCluster, type Json } from './support.js';

const ctx = useContractCluster('list');

const fixtures: Record<string, Record<string, string>> = {
  a: { env: 'prod', tier: 'web', 'lbc.test/role': 'edge' },
  b: { env: 'dev', tier: 'web' },
  c: { env: 'prod', tier: 'db', canary: 'true' },
  d: {},
  e: { env: 'staging' },
};

async function names(query: Record<string, string>, path = corePath(ctx.ns, 'configmaps')): Promise<string[]> {
  const list = expectOk(await ctx.raw('GET', path, { query }), 200);
  return list.items.map((i: Json) => i.metadata.name as string);
}

describe('label selectors', () => {
  beforeAll(async () => {
    for (const [name, labels] of Object.entries(fixtures)) {
      expectOk(await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), { body: { metadata: { name, labels } } }), 201);
    }
  });

  it.each([
    ['', ['a', 'b', 'c', 'd', 'e']],
    ['env=prod', ['a', 'c']],
    ['env==prod', ['a', 'c']],
    ['env!=prod', ['b', 'd', 'e']],
    ['env in (prod,dev)', ['a', 'b', 'c']],
    ['env notin (prod,dev)', ['d', 'e']],
    ['canary', ['c']],
    ['!canary', ['a', 'b', 'd', 'e']],
    ['env', ['a', 'b', 'c', 'e']],
    ['env=prod,tier=web', ['a']],
    ['tier,!canary', ['a', 'b']],
    ['env in (prod),tier notin (db)', ['a']],
    ['env in (prod, dev),tier=web', ['a', 'b']],
    ['lbc.test/role=edge', ['a']],
    ['env=nothing', []],
  ])('labelSelector %j selects %j', async (sel, want) => {
    expect(await names({ labelSelector: sel })).toEqual(want);
  });

  it.each(['env in (', 'env===prod', 'env in prod', '!', 'env=(prod)', 'bad key=1'])(
    'an invalid label selector %j is a 400 BadRequest',
    async (sel) => {
      const st = expectStatus(
        await ctx.raw('GET', corePath(ctx.ns, 'configmaps'), { query: { labelSelector: sel } }),
        400,
        'BadRequest',
      );
      expect(st.message.length).toBeGreaterThan(0);
    },
  );

  it('label selectors apply to all-namespaces lists', async () => {
    const list = expectOk(await ctx.raw('GET', '/api/v1/configmaps', { query: { labelSelector: 'lbc.test/role=edge' } }));
    const mine = list.items.filter((i: Json) => i.metadata.namespace === ctx.ns).map((i: Json) => i.metadata.name);
    expect(mine).toEqual(['a']);
  });
});

describe('field selectors', () => {
  it('metadata.name with = and == and !=', async () => {
    expect(await names({ fieldSelector: 'metadata.name=b' })).toEqual(['b']);
    expect(await names({ fieldSelector: 'metadata.name==b' })).toEqual(['b']);
    expect(await names({ fieldSelector: 'metadata.name!=b' })).toEqual(['a', 'c', 'd', 'e']);
    expect(await names({ fieldSelector: 'metadata.name=zz' })).toEqual([]);
  });

  it('metadata.namespace on an all-namespaces list', async () => {
    const list = expectOk(
      await ctx.raw('GET', '/api/v1/configmaps', { query: { fieldSelector: `metadata.namespace=${ctx.ns}` } }),
    );
    expect(list.items.map((i: Json) => i.metadata.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    const other = expectOk(
      await ctx.raw('GET', '/api/v1/configmaps', {
        query: { fieldSelector: `metadata.namespace!=${ctx.ns}`, labelSelector: 'lbc.test/role=edge' },
      }),
    );
    expect(other.items.filter((i: Json) => i.metadata.namespace === ctx.ns)).toEqual([]);
  });

  it('field and label selectors combine (AND)', async () => {
    expect(await names({ fieldSelector: 'metadata.name!=a', labelSelector: 'env=prod' })).toEqual(['c']);
    expect(await names({ fieldSelector: 'metadata.name=a,metadata.namespace=' + ctx.ns })).toEqual(['a']);
  });

  it('an unknown field is a 400 BadRequest naming the supported ones', async () => {
    const st = expectStatus(
      await ctx.raw('GET', corePath(ctx.ns, 'configmaps'), { query: { fieldSelector: 'spec.foo=x' } }),
      400,
      'BadRequest',
    );
    expect(st.message).toBe('"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"');
  });

  it('a malformed field selector is a 400 BadRequest', async () => {
    expectStatus(
      await ctx.raw('GET', corePath(ctx.ns, 'configmaps'), { query: { fieldSelector: 'metadata.name' } }),
      400,
      'BadRequest',
    );
  });
});

describe('pagination', () => {
  const total = 7;
  let pageNs = '';

  beforeAll(async () => {
    pageNs = uniqueName('lbc-ct-list-pages');
    await ctx.core.createNamespace({ body: { metadata: { name: pageNs } } });
    ctx.defer(() => ctx.core.deleteNamespace({ name: pageNs }));
    for (let i = 0; i < total; i++) {
      const name = `p${String(i).padStart(2, '0')}`;
      expectOk(
        await ctx.raw('POST', corePath(pageNs, 'configmaps'), { body: { metadata: { name, labels: { odd: String(i % 2) } } } }),
        201,
      );
    }
  });

  async function allPages(query: Record<string, string>, limit: number): Promise<{ pages: Json[]; items: string[] }> {
    const pages: Json[] = [];
    let cont: string | undefined;
    do {
      const page = expectOk(
        await ctx.raw('GET', corePath(pageNs, 'configmaps'), {
          query: { ...query, limit: String(limit), ...(cont ? { continue: cont } : {}) },
        }),
        200,
      );
      pages.push(page);
      expect(page.items.length).toBeLessThanOrEqual(limit);
      cont = page.metadata.continue || undefined;
      expect(pages.length).toBeLessThan(20);
    } while (cont);
    return { pages, items: pages.flatMap((p) => p.items.map((i: Json) => i.metadata.name as string)) };
  }

  it('limit/continue returns every item exactly once, in order, with a resourceVersion on each page', async () => {
    const { pages, items } = await allPages({}, 3);
    expect(items).toEqual(['p00', 'p01', 'p02', 'p03', 'p04', 'p05', 'p06']);
    expect(pages.map((p) => p.items.length)).toEqual([3, 3, 1]);
    for (const p of pages) {
      expect(p.kind).toBe('ConfigMapList');
      expect(p.metadata.resourceVersion).toMatch(/^\d+$/);
    }
    // All pages are served from the first page's snapshot.
    expect(new Set(pages.map((p) => p.metadata.resourceVersion)).size).toBe(1);
    // Only the last page lacks continue (and remainingItemCount).
    for (const p of pages.slice(0, -1)) expect(typeof p.metadata.continue).toBe('string');
    const last = pages[pages.length - 1];
    expect(last.metadata.continue).toBeUndefined();
    expect(last.metadata.remainingItemCount).toBeUndefined();
    // remainingItemCount, when given, counts the items after this page exactly.
    let seen = 0;
    for (const p of pages) {
      seen += p.items.length;
      if (p.metadata.remainingItemCount !== undefined) expect(p.metadata.remainingItemCount).toBe(total - seen);
    }
  });

  it('a page that ends exactly at the last item has no continue token', async () => {
    const { pages } = await allPages({}, 7);
    expect(pages).toHaveLength(1);
    expect(pages[0].metadata.continue).toBeUndefined();
    const big = await allPages({}, 500);
    expect(big.items).toHaveLength(total);
  });

  it('pagination with a label selector still returns each matching item exactly once', async () => {
    const { items } = await allPages({ labelSelector: 'odd=1' }, 2);
    expect(items).toEqual(['p01', 'p03', 'p05']);
  });

  it('later pages come from the first page’s snapshot: objects created meanwhile are not included', async () => {
    const first = expectOk(await ctx.raw('GET', corePath(pageNs, 'configmaps'), { query: { limit: '3' } }));
    expect(first.metadata.continue).toBeTruthy();
    expectOk(await ctx.raw('POST', corePath(pageNs, 'configmaps'), { body: { metadata: { name: 'zz-late' } } }), 201);
    const rest = expectOk(
      await ctx.raw('GET', corePath(pageNs, 'configmaps'), { query: { limit: '100', continue: first.metadata.continue } }),
    );
    expect(rest.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    expect(rest.items.map((i: Json) => i.metadata.name)).toEqual(['p03', 'p04', 'p05', 'p06']);
    const now = expectOk(await ctx.raw('GET', corePath(pageNs, 'configmaps')));
    expect(now.items.map((i: Json) => i.metadata.name)).toContain('zz-late');
    expectOk(await ctx.raw('DELETE', corePath(pageNs, 'configmaps', 'zz-late')));
  });

  it('a garbage continue token is a 400 BadRequest', async () => {
    expectStatus(
      await ctx.raw('GET', corePath(pageNs, 'configmaps'), { query: { limit: '2', continue: 'garbage' } }),
      400,
      'BadRequest',
    );
  });

  it('continue together with resourceVersion is a 400 BadRequest', async () => {
    const first = expectOk(await ctx.raw('GET', corePath(pageNs, 'configmaps'), { query: { limit: '2' } }));
    const st = expectStatus(
      await ctx.raw('GET', corePath(pageNs, 'configmaps'), {
        query: { limit: '2', continue: first.metadata.continue, resourceVersion: first.metadata.resourceVersion },
      }),
      400,
      'BadRequest',
    );
    expect(st.message).toBe('specifying resource version is not allowed when using continue');
  });
});
