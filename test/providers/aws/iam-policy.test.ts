// deploy/aws/iam-policy.json grants exactly the calls the provider makes: every SDK
// command constructed in src/providers/aws (by service, from the package it is imported
// from) must be allowed, and nothing the code never sends may be, but for the actions AWS
// authorizes on the caller's behalf when it runs one of them (ON_BEHALF). Each write's
// statements are held to what the AWS Service Authorization Reference lists for that
// action (SAR: resource types, required ones starred, and the condition keys that apply),
// and a small evaluator replays the requests lbc makes against the policy.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../../src/providers/aws');
const POLICY = join(import.meta.dirname, '../../../deploy/aws/iam-policy.json');
const PREFIX: Record<string, string> = {
  '@aws-sdk/client-elastic-load-balancing-v2': 'elasticloadbalancing',
  '@aws-sdk/client-ec2': 'ec2',
  '@aws-sdk/client-acm': 'acm',
  '@aws-sdk/client-wafv2': 'wafv2',
  '@aws-sdk/client-shield': 'shield',
  '@aws-sdk/ec2-metadata-service': 'imds',
};

/**
 * Actions AWS authorizes against the caller while serving another call, so the policy
 * must grant them though no SDK command names them. The first load balancer of an
 * account makes ELB create its service-linked role AWSServiceRoleForElasticLoadBalancing
 * as the caller (ELB user guide, "Service-linked role for Elastic Load Balancing"; ALBC's
 * docs/install/iam_policy.json grants it on the same condition): without it the first
 * CreateLoadBalancer in a fresh account fails with AccessDenied.
 */
const ON_BEHALF: Record<string, { readonly during: string; readonly condition?: Record<string, Record<string, string>> }> = {
  'iam:CreateServiceLinkedRole': {
    during: 'elasticloadbalancing:CreateLoadBalancer',
    condition: { StringEquals: { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' } },
  },
  // WAF developer guide, "Permissions for AssociateWebACL": associating an ALB also needs
  // elasticloadbalancing:SetWebAcl on it (ALBC's iam_policy.json grants it next to wafv2:*).
  'elasticloadbalancing:SetWebAcl': {
    during: 'wafv2:AssociateWebACL',
    condition: { Null: { 'aws:ResourceTag/lbc.dev/cluster': 'false' } },
  },
  // ALB user guide, "Authenticate users using an Application Load Balancer" (Amazon
  // Cognito): a rule with an authenticate-cognito action needs the caller to have
  // cognito-idp:DescribeUserPoolClient; ALBC's docs/install/iam_policy.json grants it on "*".
  'cognito-idp:DescribeUserPoolClient': { during: 'elasticloadbalancing:CreateRule' },
};

/**
 * From the Service Authorization Reference (Amazon EC2, Elastic Load Balancing V2, IAM):
 * per write action, the resource types it authorizes (ARN patterns here; `required` is the
 * SAR's star) and the condition keys listed for it or its resource types. A statement may
 * name only these resources and test only these keys, or AWS ignores it (a resource of
 * another type never matches; a key that is not in the request context fails StringEquals
 * and satisfies Null "true").
 */
interface ActionFacts {
  readonly resources: readonly { readonly arn: string; readonly required: boolean }[];
  readonly conditionKeys: readonly string[];
}
const SG = 'arn:aws:ec2:*:*:security-group/*';
const SG_RULE = 'arn:aws:ec2:*:*:security-group-rule/*';
const TAG_KEYS = ['aws:RequestTag/', 'aws:TagKeys', 'aws:ResourceTag/', 'ec2:ResourceTag/'];
const LB = ['arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*', 'arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*'];
const TG = 'arn:aws:elasticloadbalancing:*:*:targetgroup/*/*';
const LISTENER = ['arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*', 'arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*'];
const LISTENER_RULE = ['arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*/*'];
const ELB_KEYS = ['aws:RequestTag/', 'aws:TagKeys', 'aws:ResourceTag/'];
const WEB_ACL = 'arn:aws:wafv2:*:*:regional/webacl/*/*';
const PROTECTION = 'arn:aws:shield::*:protection/*';
const req = (arn: string) => ({ arn, required: true });
const opt = (arn: string) => ({ arn, required: false });
const elb = (arns: string[], extra: string[] = []): ActionFacts => ({ resources: arns.map(req), conditionKeys: [...ELB_KEYS, ...extra] });
const SAR: Record<string, ActionFacts> = {
  // CreateSecurityGroup: security-group* and vpc*; tag-on-create adds ec2:CreateTags (ec2:CreateAction).
  'ec2:CreateSecurityGroup': { resources: [req(SG), req('arn:aws:ec2:*:*:vpc/*')], conditionKeys: [...TAG_KEYS, 'ec2:Vpc'] },
  'ec2:CreateTags': { resources: [opt(SG), opt(SG_RULE)], conditionKeys: [...TAG_KEYS, 'ec2:CreateAction'] },
  'ec2:DeleteSecurityGroup': { resources: [req(SG)], conditionKeys: [...TAG_KEYS, 'ec2:SecurityGroupID', 'ec2:Vpc'] },
  // The group is required and its own conditions apply to it (aws:ResourceTag of the
  // group, not of the rule): a node group lbc did not tag fails any statement that asks
  // for lbc's tag on the group. The rule (security-group-rule) takes the request's tags
  // on Authorize and its own tags on Revoke by rule id.
  'ec2:AuthorizeSecurityGroupIngress': { resources: [req(SG), opt(SG_RULE)], conditionKeys: [...TAG_KEYS, 'ec2:SecurityGroupID', 'ec2:Vpc'] },
  'ec2:RevokeSecurityGroupIngress': { resources: [req(SG), opt(SG_RULE)], conditionKeys: [...TAG_KEYS, 'ec2:SecurityGroupID', 'ec2:Vpc'] },
  'elasticloadbalancing:CreateLoadBalancer': elb(LB),
  'elasticloadbalancing:CreateTargetGroup': elb([TG]),
  'elasticloadbalancing:CreateListener': elb(LB),
  'elasticloadbalancing:AddTags': elb([...LB, TG, ...LISTENER, ...LISTENER_RULE], ['elasticloadbalancing:CreateAction']),
  'elasticloadbalancing:DeleteLoadBalancer': elb(LB),
  'elasticloadbalancing:ModifyLoadBalancerAttributes': elb(LB),
  'elasticloadbalancing:SetIpAddressType': elb(LB),
  'elasticloadbalancing:SetSecurityGroups': elb(LB),
  'elasticloadbalancing:SetSubnets': elb(LB),
  'elasticloadbalancing:DeleteTargetGroup': elb([TG]),
  'elasticloadbalancing:DeregisterTargets': elb([TG]),
  'elasticloadbalancing:RegisterTargets': elb([TG]),
  'elasticloadbalancing:ModifyTargetGroup': elb([TG]),
  'elasticloadbalancing:ModifyTargetGroupAttributes': elb([TG]),
  'elasticloadbalancing:CreateRule': elb([...LISTENER, ...LISTENER_RULE]),
  'elasticloadbalancing:DeleteListener': elb(LISTENER),
  'elasticloadbalancing:ModifyListener': elb(LISTENER),
  'elasticloadbalancing:ModifyListenerAttributes': elb(LISTENER),
  'elasticloadbalancing:AddListenerCertificates': elb(LISTENER),
  'elasticloadbalancing:RemoveListenerCertificates': elb(LISTENER),
  'elasticloadbalancing:DeleteRule': elb(LISTENER_RULE),
  'elasticloadbalancing:ModifyRule': elb(LISTENER_RULE),
  // AWS WAF V2: the web ACL (required for Associate and Get) and the resource it protects.
  'wafv2:AssociateWebACL': { resources: [req(WEB_ACL), opt(LB[1] ?? '')], conditionKeys: ['aws:ResourceTag/'] },
  'wafv2:DisassociateWebACL': { resources: [opt(LB[1] ?? '')], conditionKeys: [] },
  'wafv2:GetWebACLForResource': { resources: [req(WEB_ACL), opt(LB[1] ?? '')], conditionKeys: ['aws:ResourceTag/'] },
  'elasticloadbalancing:SetWebAcl': elb([LB[1] ?? '']),
  // AWS Shield: the protection (global ARN, no region).
  'shield:CreateProtection': { resources: [req(PROTECTION)], conditionKeys: ['aws:RequestTag/', 'aws:TagKeys'] },
  'shield:DeleteProtection': { resources: [req(PROTECTION)], conditionKeys: ['aws:ResourceTag/'] },
  'iam:CreateServiceLinkedRole': { resources: [req('arn:aws:iam::*:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing')], conditionKeys: ['iam:AWSServiceName'] },
};

/** `elasticloadbalancing:CreateLoadBalancer`, ... for every `new XCommand(` in the provider's source. */
function actionsInCode(): Set<string> {
  const out = new Set<string>();
  for (const file of readdirSync(SRC).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(SRC, file), 'utf8');
    const serviceOf = new Map<string, string>();
    // A client imported on first use (import('@aws-sdk/...')): its commands are destructured from the module.
    const dynamic = [...text.matchAll(/import\('(@aws-sdk\/[^']+)'\)/g)].map((m) => PREFIX[m[1] ?? '']);
    if (dynamic.some((d) => d === undefined)) throw new Error(`${file} imports an AWS SDK package the policy test does not know`);
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(@aws-sdk\/[^']+)'/g)) {
      const prefix = PREFIX[m[2] ?? ''];
      if (!prefix) throw new Error(`${file} imports ${m[2]}, which the policy test does not know`);
      // The instance metadata service is link-local and takes no IAM permission.
      if (prefix === 'imds') continue;
      for (const name of (m[1] ?? '').split(',').map((s) => s.trim().replace(/^type\s+/, ''))) if (name.endsWith('Command')) serviceOf.set(name, prefix);
    }
    for (const m of text.matchAll(/new\s+([A-Za-z0-9]+)Command\(/g)) {
      // With several clients imported on first use, a command's package is not known: keep to one per file.
      const service = serviceOf.get(`${m[1]}Command`) ?? (dynamic.length === 1 ? dynamic[0] : undefined);
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
const resourcesOf = (s: Statement): string[] => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
const arnMatches = (pattern: string, arn: string): boolean => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.?+^$()[\]{}|\\/]/g, '\\$&')).join('.*')}$`).test(arn);

/** Null and StringEquals, the two operators the policy uses, over a request context. */
function conditionsHold(s: Statement, ctx: Readonly<Record<string, string>>): boolean {
  return Object.entries(s.Condition ?? {}).every(([op, keys]) =>
    Object.entries(keys).every(([key, want]) => {
      if (op === 'Null') return (ctx[key] === undefined) === (want === 'true');
      if (op === 'StringEquals') return ctx[key] !== undefined && (Array.isArray(want) ? want.includes(ctx[key]) : want === ctx[key]);
      throw new Error(`${s.Sid}: the test does not evaluate ${op}`);
    }),
  );
}

describe('deploy/aws/iam-policy.json', () => {
  it('allows exactly the SDK commands the provider sends: none missing, none unused', () => {
    const code = actionsInCode();
    const granted = new Set(policy.Statement.filter((s) => s.Effect === 'Allow').flatMap(actionsOf));
    expect(code.size).toBeGreaterThan(30);
    expect([...code].filter((a) => !granted.has(a)).sort(), 'used by the code but not granted').toEqual([]);
    expect([...granted].filter((a) => !code.has(a) && ON_BEHALF[a] === undefined).sort(), 'granted but never sent').toEqual([]);
    for (const [action, f] of Object.entries(ON_BEHALF)) {
      expect(code.has(f.during), `${action} is authorized during ${f.during}, which the code sends`).toBe(true);
      expect(granted.has(action), `${action}: AWS asks for it on lbc's behalf`).toBe(true);
    }
  });

  it('iam:CreateServiceLinkedRole only for Elastic Load Balancing (iam:AWSServiceName), as ALBC grants it', () => {
    const slr = policy.Statement.filter((s) => actionsOf(s).includes('iam:CreateServiceLinkedRole'));
    expect(slr).toHaveLength(1);
    expect(actionsOf(slr[0] as Statement)).toEqual(['iam:CreateServiceLinkedRole']);
    expect(slr[0]?.Condition).toEqual(ON_BEHALF['iam:CreateServiceLinkedRole']?.condition);
  });

  it('each write statement names only resource types and condition keys the SAR lists for its actions', () => {
    for (const s of policy.Statement) {
      for (const a of actionsOf(s).filter((x) => !/:(Describe|List)/.test(x))) {
        const facts = SAR[a];
        expect(facts, `${a}: record its SAR facts`).toBeDefined();
        if (!facts) continue;
        // "*" stands for every resource type of the action; a statement shared by actions may list types only some of them have.
        const types = facts.resources.map((x) => x.arn);
        expect(
          resourcesOf(s).some((x) => x === '*' || types.includes(x)),
          `${s.Sid}: names none of ${a}'s resource types (${types.join(', ')})`,
        ).toBe(true);
        // Every required resource type must be granted by some statement, or the action is denied whatever else is allowed.
        for (const r of facts.resources.filter((x) => x.required)) {
          expect(
            policy.Statement.some((t) => actionsOf(t).includes(a) && resourcesOf(t).some((x) => x === '*' || x === r.arn)),
            `${a}: no statement grants its required resource ${r.arn}`,
          ).toBe(true);
        }
        for (const key of Object.values(s.Condition ?? {}).flatMap((c) => Object.keys(c))) {
          expect(
            facts.conditionKeys.some((k) => (k.endsWith('/') ? key.startsWith(k) : key === k)),
            `${s.Sid}: ${a} has no condition key ${key}`,
          ).toBe(true);
        }
      }
    }
  });

  // A request as IAM sees it: every resource the action authorizes must be allowed by some statement.
  const allowed = (action: string, resource: string, ctx: Record<string, string>): boolean =>
    policy.Statement.some((s) => s.Effect === 'Allow' && actionsOf(s).includes(action) && resourcesOf(s).some((r) => arnMatches(r, resource)) && conditionsHold(s, ctx));

  it('revoking lbc\'s backend rule from a node security group lbc did not tag is allowed: the group and the rule are both authorized', () => {
    const nodeGroup = 'arn:aws:ec2:us-east-1:123456789012:security-group/sg-0nodes';
    const rule = 'arn:aws:ec2:us-east-1:123456789012:security-group-rule/sgr-0abc';
    // The node group carries the cluster's tag, not lbc's.
    expect(allowed('ec2:RevokeSecurityGroupIngress', nodeGroup, { 'aws:ResourceTag/kubernetes.io/cluster/prod': 'owned' })).toBe(true);
    expect(allowed('ec2:RevokeSecurityGroupIngress', rule, { 'aws:ResourceTag/lbc.dev/cluster': 'prod' })).toBe(true);
    // A rule lbc did not tag stays out of reach.
    expect(allowed('ec2:RevokeSecurityGroupIngress', rule, {})).toBe(false);
    // Adding one: the group, and the rule with lbc's tags in the request.
    expect(allowed('ec2:AuthorizeSecurityGroupIngress', nodeGroup, {})).toBe(true);
    expect(allowed('ec2:AuthorizeSecurityGroupIngress', rule, { 'aws:RequestTag/lbc.dev/cluster': 'prod' })).toBe(true);
    expect(allowed('ec2:AuthorizeSecurityGroupIngress', rule, {})).toBe(false);
  });

  it('a TargetGroupBinding moves targets in and out of a group lbc did not tag, and may do nothing else to it', () => {
    const userGroup = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/users-tg/0123456789abcdef';
    expect(allowed('elasticloadbalancing:RegisterTargets', userGroup, {})).toBe(true);
    expect(allowed('elasticloadbalancing:DeregisterTargets', userGroup, {})).toBe(true);
    for (const a of ['DeleteTargetGroup', 'ModifyTargetGroup', 'ModifyTargetGroupAttributes', 'AddTags']) {
      expect(allowed(`elasticloadbalancing:${a}`, userGroup, {}), a).toBe(false);
    }
    // Not a load balancer: the unconditioned grant is for target groups only.
    expect(allowed('elasticloadbalancing:RegisterTargets', 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/users/0123', {})).toBe(false);
  });

  it('the first load balancer of an account: the service-linked role for ELB and no other', () => {
    const role = 'arn:aws:iam::123456789012:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing';
    expect(allowed('iam:CreateServiceLinkedRole', role, { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' })).toBe(true);
    expect(allowed('iam:CreateServiceLinkedRole', 'arn:aws:iam::123456789012:role/aws-service-role/ec2.amazonaws.com/AWSServiceRoleForEC2', { 'iam:AWSServiceName': 'ec2.amazonaws.com' })).toBe(false);
  });

  it('a web ACL goes only on lbc\'s ALBs: SetWebAcl, which WAFv2 authorizes on the ALB, needs lbc\'s tag', () => {
    const alb = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/k8s-shop/0123456789abcdef';
    expect(allowed('wafv2:AssociateWebACL', 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/shop/1111', {})).toBe(true);
    expect(allowed('elasticloadbalancing:SetWebAcl', alb, { 'aws:ResourceTag/lbc.dev/cluster': 'prod' })).toBe(true);
    expect(allowed('elasticloadbalancing:SetWebAcl', alb, {})).toBe(false);
  });

  it('no wildcard actions, Allow only', () => {
    for (const s of policy.Statement) {
      expect(s.Effect).toBe('Allow');
      for (const a of actionsOf(s)) expect(a).toMatch(/^(ec2|elasticloadbalancing|acm|iam|wafv2|shield|cognito-idp):[A-Za-z]+$/);
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
      // Scoped by the service it is for instead (ON_BEHALF).
      if (s.Sid === 'ElbServiceLinkedRoleOnFirstLoadBalancer') continue;
      // The node security groups are the cluster owner's (tagged kubernetes.io/cluster/<name>,
      // a key IAM cannot match by pattern in a policy that names no cluster), and the group
      // is a required resource of both actions (SAR above): only the group resource is
      // unconditioned here; the rules themselves stay scoped by lbc's tag (asserted below).
      if (s.Sid === 'IngressRulesOnAnySecurityGroup') {
        expect(writes).toEqual(['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress']);
        expect(s.Resource).toBe('arn:aws:ec2:*:*:security-group/*');
        continue;
      }
      // A TargetGroupBinding's target group is the user's, made without lbc's tags: lbc only
      // moves targets in and out of it, as ALBC's docs/install/iam_policy.json grants
      // Register/DeregisterTargets on every targetgroup/*/* without a condition. Nothing
      // else may touch an untagged group (asserted below).
      if (s.Sid === 'TargetGroupBindingTargetsInUserTargetGroups') {
        expect(writes).toEqual(['elasticloadbalancing:DeregisterTargets', 'elasticloadbalancing:RegisterTargets']);
        expect(s.Resource).toBe('arn:aws:elasticloadbalancing:*:*:targetgroup/*/*');
        continue;
      }
      // The web ACL is the user's (no lbc tag to require); which load balancer it may go on is
      // decided by elasticloadbalancing:SetWebAcl, which WAFv2 asks of the caller on the ALB
      // and which only lbc's ALBs grant (asserted below).
      // As ALBC's iam_policy.json grants them: a protection is made without tags, so IAM has
      // nothing of lbc's to match; lbc deletes only protections it named (PROTECTION_NAME).
      if (s.Sid === 'ShieldProtectionOfAlbs') {
        expect(writes).toEqual(['shield:CreateProtection', 'shield:DeleteProtection']);
        continue;
      }
      if (s.Sid === 'Wafv2WebAclOnAlbs') {
        expect(writes).toEqual(['wafv2:AssociateWebACL', 'wafv2:DisassociateWebACL', 'wafv2:GetWebACLForResource']);
        continue;
      }
      const nulls = s.Condition?.['Null'] ?? {};
      const scoped = nulls['aws:RequestTag/lbc.dev/cluster'] === 'false' || nulls['aws:ResourceTag/lbc.dev/cluster'] === 'false';
      expect(scoped, `${s.Sid} must require the lbc.dev/cluster tag`).toBe(true);
    }
    for (const s of policy.Statement.filter((x) => actionsOf(x).every(readOnly))) expect(s.Condition).toBeUndefined();
  });
});
