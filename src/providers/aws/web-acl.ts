// The WAFv2 web ACL of an Application Load Balancer (`wafv2-acl-arn`), as
// aws-load-balancer-controller manages it (pkg/ingress/model_build_load_balancer_addons.go
// buildWAFv2WebACLAssociation, pkg/deploy/wafv2): without the annotation the association
// is left as it is (someone may manage it outside Kubernetes); `none` removes it; an ARN
// makes it that web ACL (AssociateWebACL replaces an association with another ACL).
// The WAFv2 SDK is imported on first use, so only load balancers that ask for it load it.
import type { AwsApi } from './api.js';
import { hasCode } from './errors.js';
import { ProviderError, type Change } from '../types.js';

/** What the steps need of plan.ts's ApplyContext (named here so that plan.ts can import this module). */
interface WebAclContext {
  readonly api: AwsApi;
  readonly signal: AbortSignal | undefined;
  readonly provider: string;
  readonly dependencyTimeoutMs: number;
  readonly lbArn: string | undefined;
}

interface WebAclStep {
  readonly change: Change;
  run(ctx: WebAclContext): Promise<void>;
}

/** The annotation's value for "no web ACL"; any other value is a web ACL ARN. */
export const NO_WEB_ACL = 'none';

const sdk = () => import('@aws-sdk/client-wafv2');

/** The web ACL the load balancer is associated with, if any. */
export async function describeWebAcl(api: AwsApi, lbArn: string, signal?: AbortSignal): Promise<string | undefined> {
  const { GetWebACLForResourceCommand } = await sdk();
  const out = await api.wafv2('GetWebACLForResource', (c, o) => c.send(new GetWebACLForResourceCommand({ ResourceArn: lbArn }), o), { signal });
  return out.WebACL?.ARN;
}

function lbArnOf(ctx: WebAclContext): string {
  if (ctx.lbArn === undefined) throw new ProviderError('transient', 'the load balancer has no ARN yet', { provider: ctx.provider });
  return ctx.lbArn;
}

/**
 * The steps that make the association what is wanted. `current` is what WAFv2 reported
 * for an existing load balancer; undefined for one this run creates (no ACL yet).
 */
export function diffWebAcl(current: string | undefined, wanted: string | undefined): WebAclStep[] {
  if (wanted === undefined) return [];
  if (wanted === NO_WEB_ACL) {
    if (current === undefined) return [];
    return [
      {
        change: { op: 'delete', resource: 'WebACLAssociation', id: current, detail: `${NO_WEB_ACL} asked` },
        run: async (ctx) => {
          const { DisassociateWebACLCommand } = await sdk();
          await ctx.api
            .wafv2('DisassociateWebACL', (c, o) => c.send(new DisassociateWebACLCommand({ ResourceArn: lbArnOf(ctx) }), o), { signal: ctx.signal })
            .catch((e: unknown) => {
              // The load balancer is gone with its association: nothing left to remove.
              if (!hasCode(e, 'WAFNonexistentItemException')) throw e;
            });
        },
      },
    ];
  }
  if (current === wanted) return [];
  return [
    {
      change: { op: current === undefined ? 'create' : 'update', resource: 'WebACLAssociation', id: wanted, ...(current !== undefined ? { fields: ['webACL'], detail: `was ${current}` } : {}) },
      run: async (ctx) => {
        const { AssociateWebACLCommand } = await sdk();
        await ctx.api.wafv2('AssociateWebACL', (c, o) => c.send(new AssociateWebACLCommand({ WebACLArn: wanted, ResourceArn: lbArnOf(ctx) }), o), {
          signal: ctx.signal,
          // WAFv2 answers this for a load balancer it does not see yet (just created).
          waitOn: ['WAFUnavailableEntityException'],
          deadlineMs: ctx.dependencyTimeoutMs,
        });
      },
    },
  ];
}
