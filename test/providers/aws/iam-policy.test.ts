// deploy/aws/iam-policy.json grants exactly the calls the provider makes: every SDK
// command constructed in src/providers/aws (by service, from the package it is imported
// from) must be allowed, and nothing the code never sends may be.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../../src/providers/aws');
const POLICY = join(import.meta.dirname, '../../../deploy/aws/iam-policy.json');
const PREFIX: Record<string, string> = {
  '@aws-sdk/client-elastic-load-balancing-v2': 'elasticloadbalancing',
  '@aws-sdk/client-ec2': 'ec2',
  '@aws-sdk/client-acm': 'acm',
};

/** `elasticloadbalancing:CreateLoadBalancer`, ... for every `new XCommand(` in the provider's source. */
function actionsInCode(): Set<string> {
  const out = new Set<string>();
  for (const file of readdirSync(SRC).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(SRC, file), 'utf8');
    const serviceOf = new Map<string, string>();
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(@aws-sdk\/[^']+)'/g)) {
      const prefix = PREFIX[m[2] ?? ''];
      if (!prefix) throw new Error(`${file} imports ${m[2]}, which the policy test does not know`);
      for (const name of (m[1] ?? '').split(',').map((s) => s.trim().replace(/^type\s+/, ''))) if (name.endsWith('Command')) serviceOf.set(name, prefix);
    }
    for (const m of text.matchAll(/new\s+([A-Za-z]+)Command\(/g)) {
      const service = serviceOf.get(`${m[1]}Command`);
      if (!service) throw new Error(`${file}: ${m[1]}Command is not imported from an AWS SDK client`);
      out.add(`${service}:${m[1]}`);
    }
  }
  return out;
}

interface Statement {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

const policy = JSON.parse(readFileSync(POLICY, 'utf8')) as { Version: string; Statement: Statement[] };
const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('deploy/aws/iam-policy.json', () => {
  it('allows exactly the SDK commands the provider sends: none missing, none unused', () => {
    const code = actionsInCode();
    const granted = new Set(policy.Statement.filter((s) => s.Effect === 'Allow').flatMap(actionsOf));
    expect(code.size).toBeGreaterThan(30);
    expect([...code].filter((a) => !granted.has(a)).sort(), 'used by the code but not granted').toEqual([]);
    expect([...granted].filter((a) => !code.has(a)).sort(), 'granted but never sent').toEqual([]);
  });

  it('no wildcard actions, Allow only', () => {
    for (const s of policy.Statement) {
      expect(s.Effect).toBe('Allow');
      for (const a of actionsOf(s)) expect(a).toMatch(/^(ec2|elasticloadbalancing|acm):[A-Za-z]+$/);
    }
  });

  it('every write is scoped by lbc.dev/cluster: required on create, required on the resource otherwise', () => {
    const readOnly = (a: string): boolean => /:(Describe|List)/.test(a);
    for (const s of policy.Statement) {
      const writes = actionsOf(s).filter((a) => !readOnly(a));
      if (writes.length === 0) continue;
      // CreateSecurityGroup also authorises against the VPC, which carries no tag of ours.
      if (s.Sid === 'CreateSecurityGroupInAnyVpc') {
        expect(writes).toEqual(['ec2:CreateSecurityGroup']);
        expect(s.Resource).toBe('arn:aws:ec2:*:*:vpc/*');
        continue;
      }
      const nulls = s.Condition?.['Null'] ?? {};
      const scoped = nulls['aws:RequestTag/lbc.dev/cluster'] === 'false' || nulls['aws:ResourceTag/lbc.dev/cluster'] === 'false';
      expect(scoped, `${s.Sid} must require the lbc.dev/cluster tag`).toBe(true);
    }
    for (const s of policy.Statement.filter((x) => actionsOf(x).every(readOnly))) expect(s.Condition).toBeUndefined();
  });
});
