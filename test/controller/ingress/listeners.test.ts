import { describe, expect, it } from 'vitest';
import { buildListeners } from '../../../src/controller/ingress/listeners.js';
import type { L7Listener, TlsCertificate } from '../../../src/model/spec.js';

const cert: TlsCertificate = { source: 'provider', id: 'arn:a', hosts: [] };

describe('buildListeners', () => {
  it.each<{ name: string; certificates: TlsCertificate[]; want: L7Listener[] }>([
    { name: 'HTTP on 80 only, without a certificate', certificates: [], want: [{ protocol: 'HTTP', port: 80 }] },
    {
      name: 'HTTPS on 443 besides, with every certificate, when there is one',
      certificates: [cert, { ...cert, id: 'arn:b' }],
      want: [
        { protocol: 'HTTP', port: 80 },
        { protocol: 'HTTPS', port: 443, certificates: [cert, { ...cert, id: 'arn:b' }] },
      ],
    },
  ])('$name', ({ certificates, want }) => {
    expect(buildListeners(certificates)).toEqual(want);
  });
});
