// AWS Shield Advanced protection of an Application Load Balancer
// (`shield-advanced-protection`), as aws-load-balancer-controller manages it
// (pkg/ingress/model_build_load_balancer_addons.go buildShieldProtection,
// pkg/deploy/shield): `true` creates a protection for the ALB, `false` deletes the one lbc
// created (a protection someone else made is left, with a Warning); without the annotation
// Shield is never called. lbc names its protections, so it only ever deletes its own.
// The Shield SDK is imported on first use, so only load balancers that ask for it load it.
import type { AwsApi } from './api.js';
import { hasCode } from './errors.js';
import { ProviderError, type Change } from '../types.js';

/** The Name lbc gives its protections: how it tells them from the user's. */
export const PROTECTION_NAME = 'managed by lbc';

export interface ActualProtection {
  readonly id: string;
  readonly name: string;
}

/** What the steps need of plan.ts's ApplyContext (named here so that plan.ts can import this module). */
interface ShieldContext {
  readonly api: AwsApi;
  readonly signal: AbortSignal | undefined;
  readonly provider: string;
  readonly lbArn: string | undefined;
}

interface ShieldStep {
  readonly change: Change;
  run(ctx: ShieldContext): Promise<void>;
}

const sdk = () => import('@aws-sdk/client-shield');

/** The load balancer's protection, if it has one. */
export async function describeProtection(api: AwsApi, lbArn: string, signal?: AbortSignal): Promise<ActualProtection | undefined> {
  const { DescribeProtectionCommand } = await sdk();
  try {
    const out = await api.shield('DescribeProtection', (c, o) => c.send(new DescribeProtectionCommand({ ResourceArn: lbArn }), o), { signal });
    const p = out.Protection;
    return p?.Id !== undefined ? { id: p.Id, name: p.Name ?? '' } : undefined;
  } catch (e) {
    if (hasCode(e, 'ResourceNotFoundException')) return undefined;
    throw e;
  }
}

/** The steps that make the protection what is wanted; `current` is undefined for a load balancer this run creates. */
export function diffProtection(current: ActualProtection | undefined, wanted: boolean | undefined): { steps: ShieldStep[]; warning?: string } {
  if (wanted === undefined) return { steps: [] };
  if (!wanted) {
    if (current === undefined) return { steps: [] };
    if (current.name !== PROTECTION_NAME) {
      return {
        steps: [],
        warning: `shield-advanced-protection is false, but the load balancer's Shield protection ${current.id} (${JSON.stringify(current.name)}) was not made by lbc; it is left alone`,
      };
    }
    return { steps: [
      {
        change: { op: 'delete', resource: 'ShieldProtection', id: current.id, detail: 'shield-advanced-protection is false' },
        run: async (ctx) => {
          const { DeleteProtectionCommand } = await sdk();
          await ctx.api.shield('DeleteProtection', (c, o) => c.send(new DeleteProtectionCommand({ ProtectionId: current.id }), o), { signal: ctx.signal }).catch((e: unknown) => {
            if (!hasCode(e, 'ResourceNotFoundException')) throw e;
          });
        },
      },
    ] };
  }
  if (current !== undefined) return { steps: [] };
  return { steps: [
    {
      change: { op: 'create', resource: 'ShieldProtection', id: PROTECTION_NAME },
      run: async (ctx) => {
        if (ctx.lbArn === undefined) throw new ProviderError('transient', 'the load balancer has no ARN yet', { provider: ctx.provider });
        const { CreateProtectionCommand } = await sdk();
        const lbArn = ctx.lbArn;
        await ctx.api.shield('CreateProtection', (c, o) => c.send(new CreateProtectionCommand({ Name: PROTECTION_NAME, ResourceArn: lbArn }), o), { signal: ctx.signal }).catch((e: unknown) => {
          // An earlier attempt whose answer was lost, or one made meanwhile: protected, the goal.
          if (!hasCode(e, 'ResourceAlreadyExistsException')) throw e;
        });
      },
    },
  ] };
}
