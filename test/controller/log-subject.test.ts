// The object each reconciler line names, as the Logger receives it: the queue keys and
// group keys map to kind/namespace/name the way observability/log.ts writes them, and a
// console logger prints the message without dumping the subject object after it.
import { describe, expect, it } from 'vitest';
import { ingressSubject, isLogSubject, queueKeySubject, serviceSubject, textArgs } from '../../src/controller/reconcile.js';
import { objectOfMessage } from '../../src/observability/log.js';

describe('log subjects', () => {
  it.each([
    ['service/default/web', { kind: 'Service', namespace: 'default', name: 'web' }],
    ['ingress/shop/front', { kind: 'Ingress', namespace: 'shop', name: 'front' }],
    ['group/public', { kind: 'Ingress', name: 'group/public' }],
    ['node/n1', undefined],
  ])('queue key %s', (key, want) => {
    expect(queueKeySubject(key)).toEqual(want);
  });

  it('carries the provider when the reconciler knows it', () => {
    expect(serviceSubject('default/web', 'aws')).toEqual({ kind: 'Service', namespace: 'default', name: 'web', provider: 'aws' });
    expect(ingressSubject('ingress/shop/front', 'gce')).toEqual({ kind: 'Ingress', namespace: 'shop', name: 'front', provider: 'gce' });
    expect(serviceSubject('default/web')).not.toHaveProperty('provider');
  });

  it('names a group the way a parsed `Ingress group` message does', () => {
    expect(ingressSubject('group/public')).toEqual(objectOfMessage('Ingress group public: bad'));
  });

  it('is dropped from what a console logger prints, other arguments kept', () => {
    const err = new Error('x');
    expect(textArgs([serviceSubject('a/b', 'mem'), err, 'more'])).toEqual([err, 'more']);
    expect(isLogSubject({ provider: 'mem' })).toBe(false);
  });
});
