// Every value lbc passes from an annotation to AWS, held to what AWS documents for it
// (references in src/providers/aws/constraints.ts): good values pass, bad ones are a
// model error naming the annotation, so the reconciler reports them (Warning and
// condition) before any cloud call.
import { describe, expect, it } from 'vitest';
import { parseAwsOptions } from '../../../src/providers/aws/annotations.js';

const S = 'service.beta.kubernetes.io/aws-load-balancer-';
const A = 'alb.ingress.kubernetes.io/';

type Kind = 'Service' | 'Ingress';
interface Case {
  readonly annotation: string;
  readonly value: string;
  readonly kind?: Kind;
}

const reasonFor = ({ annotation, value, kind = 'Service' }: Case): string | undefined => {
  const r = parseAwsOptions({ [annotation]: value }, kind);
  if (r.ok) return undefined;
  const e = r.errors.find((x) => 'annotation' in x && x.annotation === annotation);
  if (!e) throw new Error(`errors name other annotations: ${JSON.stringify(r.errors)}`);
  return e.reason;
};

const GOOD: readonly Case[] = [
  { annotation: `${S}access-log-s3-bucket-name`, value: 'my-logs.example-1' },
  { annotation: `${S}access-log-s3-bucket-name`, value: 'abc' },
  { annotation: `${S}access-log-s3-bucket-prefix`, value: 'prod/nlb' },
  { annotation: `${S}access-log-s3-bucket-prefix`, value: '0x50' },
  { annotation: `${S}additional-resource-tags`, value: 'team=web,cost-center=42,Name=shop web,e-mail=a@b.example,path=/x/y:z+1' },
  { annotation: `${S}attributes`, value: 'deletion_protection.enabled=true,dns_record.client_routing_policy=availability_zone_affinity,access_logs.s3.bucket=my-logs,access_logs.s3.prefix=p' },
  { annotation: `${S}target-group-attributes`, value: 'deregistration_delay.timeout_seconds=0,preserve_client_ip.enabled=false,target_health_state.unhealthy.draining_interval_seconds=360000' },
  { annotation: `${S}healthcheck-success-codes`, value: '200-599' },
  { annotation: `${S}ssl-negotiation-policy`, value: 'ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04' },
  { annotation: `${A}load-balancer-attributes`, value: 'idle_timeout.timeout_seconds=4000,routing.http.desync_mitigation_mode=strictest,client_keep_alive.seconds=60', kind: 'Ingress' },
  { annotation: `${A}target-group-attributes`, value: 'slow_start.duration_seconds=0,stickiness.type=app_cookie,stickiness.app_cookie.cookie_name=SESSION,load_balancing.algorithm.type=weighted_random', kind: 'Ingress' },
  { annotation: `${A}success-codes`, value: '200,301-302', kind: 'Ingress' },
  { annotation: `${A}tags`, value: 'env=prod', kind: 'Ingress' },
  { annotation: `${A}actions.fixed`, value: '{"type":"fixed-response","fixedResponseConfig":{"contentType":"text/plain","statusCode":"503","messageBody":"down"}}', kind: 'Ingress' },
  { annotation: `${A}actions.redirect`, value: '{"type":"redirect","redirectConfig":{"protocol":"HTTPS","port":"443","path":"/#{path}","statusCode":"HTTP_301"}}', kind: 'Ingress' },
  { annotation: `${A}conditions.web`, value: '[{"field":"http-request-method","httpRequestMethodConfig":{"values":["GET","HEAD"]}}]', kind: 'Ingress' },
];

// [case, what the reason must say]
const BAD: readonly (readonly [Case, RegExp])[] = [
  // S3 bucket naming rules
  [{ annotation: `${S}access-log-s3-bucket-name`, value: 'ab' }, /3 to 63 characters/],
  [{ annotation: `${S}access-log-s3-bucket-name`, value: 'x'.repeat(64) }, /3 to 63 characters/],
  [{ annotation: `${S}access-log-s3-bucket-name`, value: 'My_Logs' }, /lower-case letters, digits, dots and hyphens/],
  [{ annotation: `${S}access-log-s3-bucket-name`, value: '-logs' }, /begin and end with a letter or digit/],
  [{ annotation: `${S}access-log-s3-bucket-name`, value: 'my..logs' }, /two adjacent dots/],
  [{ annotation: `${S}access-log-s3-bucket-name`, value: '192.168.5.4' }, /IP address/],
  [{ annotation: `${S}access-log-s3-bucket-name`, value: 'xn--logs' }, /prefix xn-- is reserved/],
  [{ annotation: `${S}access-log-s3-bucket-name`, value: 'logs-s3alias' }, /suffix -s3alias is reserved/],
  // ELB access log prefix: no AWSLogs, S3-safe key characters, room for what ELB appends
  [{ annotation: `${S}access-log-s3-bucket-prefix`, value: 'x'.repeat(100 * 1024) }, /too long .* 1024 bytes/],
  [{ annotation: `${S}access-log-s3-bucket-prefix`, value: '{"a": [1, 2]}' }, /safe key characters/],
  [{ annotation: `${S}access-log-s3-bucket-prefix`, value: 'team/AWSLogs' }, /must not include AWSLogs/],
  // ELBv2 Tag: key 1-128, value 0-256, restricted characters, aws: reserved
  [{ annotation: `${S}additional-resource-tags`, value: `k=${'v'.repeat(257)}` }, /at most 256 characters/],
  [{ annotation: `${S}additional-resource-tags`, value: 'k=a<b>' }, /value may hold letters, digits, spaces/],
  [{ annotation: `${S}additional-resource-tags`, value: 'a#b=1' }, /key "a#b" may hold letters/],
  [{ annotation: `${S}additional-resource-tags`, value: `${'k'.repeat(129)}=1` }, /longer than 128/],
  [{ annotation: `${A}tags`, value: 'aws:owner=me', kind: 'Ingress' }, /reserved/],
  // Load balancer attributes: known keys, their values and ranges, per type
  [{ annotation: `${S}attributes`, value: 'access_logs.s3.prefix=AWSLogs/x' }, /must not include AWSLogs/],
  [{ annotation: `${S}attributes`, value: 'access_logs.s3.bucket=Bad_Bucket' }, /not an S3 bucket name/],
  [{ annotation: `${S}attributes`, value: 'deletion_protection.enabled=yes' }, /must be true or false/],
  [{ annotation: `${S}attributes`, value: 'idle_timeout.timeout_seconds=60' }, /application load balancers only/],
  [{ annotation: `${S}attributes`, value: 'secondary_ips.auto_assigned.per_subnet=8' }, /must be 0-7/],
  [{ annotation: `${S}attributes`, value: 'load_balancing.crosszone.enabled=true' }, /not a network load balancer attribute AWS documents/],
  [{ annotation: `${A}load-balancer-attributes`, value: 'idle_timeout.timeout_seconds=4001', kind: 'Ingress' }, /must be 1-4000/],
  [{ annotation: `${A}load-balancer-attributes`, value: 'idle_timeout.timeout_seconds=0x50', kind: 'Ingress' }, /whole number 1-4000/],
  [{ annotation: `${A}load-balancer-attributes`, value: 'routing.http.desync_mitigation_mode=paranoid', kind: 'Ingress' }, /monitor, defensive, strictest/],
  [{ annotation: `${A}load-balancer-attributes`, value: 'client_keep_alive.seconds=59', kind: 'Ingress' }, /must be 60-604800/],
  // Target group attributes
  [{ annotation: `${S}target-group-attributes`, value: 'deregistration_delay.timeout_seconds=3601' }, /must be 0-3600/],
  [{ annotation: `${S}target-group-attributes`, value: 'slow_start.duration_seconds=60' }, /application load balancers only/],
  [{ annotation: `${A}target-group-attributes`, value: 'slow_start.duration_seconds=10', kind: 'Ingress' }, /must be 30-900 or 0/],
  [{ annotation: `${A}target-group-attributes`, value: 'stickiness.lb_cookie.duration_seconds=604801', kind: 'Ingress' }, /must be 1-604800/],
  [{ annotation: `${A}target-group-attributes`, value: 'stickiness.app_cookie.cookie_name=AWSALBAPP', kind: 'Ingress' }, /reserved/],
  [{ annotation: `${A}target-group-attributes`, value: 'proxy_protocol_v2.enabled=true', kind: 'Ingress' }, /network load balancers only/],
  // Health checks: matcher ranges per type, path length
  [{ annotation: `${S}healthcheck-success-codes`, value: '200-600' }, /take codes 200-599/],
  [{ annotation: `${A}success-codes`, value: '500', kind: 'Ingress' }, /take codes 200-499/],
  [{ annotation: `${A}success-codes`, value: '299-200', kind: 'Ingress' }, /runs backwards/],
  [{ annotation: `${S}healthcheck-path`, value: `/${'p'.repeat(1024)}` }, /longer than 1024/],
  // Security policy, subnets and security groups
  [{ annotation: `${S}ssl-negotiation-policy`, value: 'my-policy' }, /predefined ELB security policy/],
  [{ annotation: `${A}subnets`, value: `subnet-1,${'n'.repeat(257)}`, kind: 'Ingress' }, /longer than 256/],
  // Actions and conditions
  [{ annotation: `${A}actions.fixed`, value: '{"type":"fixed-response","fixedResponseConfig":{"contentType":"text/xml","statusCode":"503"}}', kind: 'Ingress' }, /contentType/],
  [{ annotation: `${A}actions.fixed`, value: JSON.stringify({ type: 'fixed-response', fixedResponseConfig: { statusCode: '503', messageBody: 'x'.repeat(1025) } }), kind: 'Ingress' }, /messageBody/],
  [{ annotation: `${A}actions.redirect`, value: '{"type":"redirect","redirectConfig":{"port":"70000","statusCode":"HTTP_301"}}', kind: 'Ingress' }, /port/],
  [{ annotation: `${A}actions.redirect`, value: '{"type":"redirect","redirectConfig":{"protocol":"FTP","statusCode":"HTTP_301"}}', kind: 'Ingress' }, /protocol/],
  [{ annotation: `${A}conditions.web`, value: JSON.stringify([{ field: 'host-header', hostHeaderConfig: { values: ['h'.repeat(129)] } }]), kind: 'Ingress' }, /hostHeaderConfig/],
  [{ annotation: `${A}conditions.web`, value: '[{"field":"http-request-method","httpRequestMethodConfig":{"values":["get it"]}}]', kind: 'Ingress' }, /HTTP method/],
];

describe('AWS values lbc passes on: documented constraints', () => {
  it.each(GOOD.map((c) => [`${c.annotation}: ${c.value.slice(0, 60)}`, c] as const))('accepts %s', (_, c) => {
    expect(reasonFor(c)).toBeUndefined();
  });

  it.each(BAD.map(([c, why]) => [`${c.annotation}: ${c.value.slice(0, 60)}`, c, why] as const))('refuses %s', (_, c, why) => {
    expect(reasonFor(c)).toMatch(why);
  });
});
