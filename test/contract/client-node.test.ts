// Contract: @kubernetes/client-node's own informer (makeInformer) works unchanged: it
// lists, watches from the list's resourceVersion and keeps its cache in step.
import { describe, expect, it } from 'vitest';
import { makeInformer, type V1ConfigMap } from '@kubernetes/client-node';
import { eventually, mergePatch, useContractCluster } from './support.js';

const ctx = useContractCluster('clientnode');

describe('client-node makeInformer', () => {
  it('lists, then sees add, update and delete through its watch', async () => {
    await ctx.core.createNamespacedConfigMap({ namespace: ctx.ns, body: { metadata: { name: 'before' }, data: { v: '0' } } });
    const informer = makeInformer<V1ConfigMap>(
      ctx.kc,
      `/api/v1/namespaces/${ctx.ns}/configmaps`,
      () => ctx.core.listNamespacedConfigMap({ namespace: ctx.ns }),
    );
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata?.name} ${o.data?.v}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    await informer.start();
    try {
      await eventually(() => expect(seen).toEqual(['add before']));
      await ctx.core.createNamespacedConfigMap({ namespace: ctx.ns, body: { metadata: { name: 'after' }, data: { v: '1' } } });
      await ctx.core.patchNamespacedConfigMap({ name: 'after', namespace: ctx.ns, body: { data: { v: '2' } } }, mergePatch);
      await ctx.core.deleteNamespacedConfigMap({ name: 'before', namespace: ctx.ns });
      await eventually(() => expect(seen).toEqual(['add before', 'add after', 'update after 2', 'delete before']));
      expect(informer.list(ctx.ns).map((o) => o.metadata?.name)).toEqual(['after']);
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });
});
