// Which VPC the cluster is in, when the configuration does not say (`vpcId`, the flag
// `--aws-vpc-id`). aws-load-balancer-controller's order (pkg/aws/cloud.go getVpcID →
// inferVPCID): the instance metadata of the instance the controller runs on
// (pkg/aws/services/ec2metadata.go VpcID: `mac`, then
// `network/interfaces/macs/<mac>/vpc-id`), else an EC2 instance of the cluster through
// DescribeInstances (ALBC reads its own node's name; lbc reads the Nodes' providerIDs,
// which it already has). Without a VPC, subnet discovery would search the whole region
// and fail, or pick the wrong VPC, in any account with several.
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { MetadataService } from '@aws-sdk/ec2-metadata-service';
import { ProviderError } from '../types.js';
import type { AwsApi, ImdsConfig } from './api.js';
import { hasCode } from './errors.js';

export interface InstanceMetadata {
  /** The VPC of the instance this process runs on; rejects when there is no instance metadata service. */
  vpcId(): Promise<string>;
}

/**
 * IMDSv2 through the SDK's metadata client. One attempt of at most a second, as the SDK's
 * own IMDS credential provider does by default (@smithy/credential-provider-imds: timeout
 * 1000, maxRetries 0): off EC2, or from a pod when the instance's hop limit is 1, it never
 * answers, and then the Nodes are asked instead. The link-local service is no AWS API, so
 * it takes no part in the API rate limits and retry policy.
 */
export function instanceMetadata(config: ImdsConfig = {}): InstanceMetadata {
  const service = new MetadataService({
    ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
    httpOptions: { timeout: config.timeoutMs ?? 1000 },
    retries: 0,
  });
  return {
    async vpcId() {
      // The SDK joins the endpoint's path and these: no leading slash.
      const mac = (await service.request('latest/meta-data/mac', {})).trim();
      return (await service.request(`latest/meta-data/network/interfaces/macs/${mac}/vpc-id`, {})).trim();
    },
  };
}

export interface DiscoveredVpc {
  readonly vpcId: string;
  /** Said in the log: how it was found. */
  readonly source: string;
}

const INSTANCE_IDS_PER_CALL = 5;

/**
 * The VPC from the instance metadata, else from the instances behind the Nodes. Throws an
 * invalid-input error that names each source tried and why it gave nothing.
 */
export async function discoverVpc(
  api: AwsApi,
  metadata: InstanceMetadata,
  instanceIds: readonly string[],
  provider: string,
  signal?: AbortSignal,
): Promise<DiscoveredVpc> {
  const why: string[] = [];
  try {
    const vpcId = await metadata.vpcId();
    if (/^vpc-[0-9a-f]+$/.test(vpcId)) return { vpcId, source: "the instance metadata of the controller's instance" };
    why.push(`the instance metadata answered ${JSON.stringify(vpcId.slice(0, 64))}, not a VPC id`);
  } catch (e) {
    why.push(`no instance metadata (${e instanceof Error ? e.message.slice(0, 200) : String(e)})`);
  }
  // A few instances suffice: a cluster's nodes share one VPC, and all of them are checked for it.
  const ids = [...new Set(instanceIds)].sort().slice(0, INSTANCE_IDS_PER_CALL);
  if (ids.length === 0) {
    why.push('no Node with an EC2 providerID (aws:///<zone>/i-...) among the targets');
  } else {
    const out = await api.ec2('DescribeInstances', (c, o) => c.send(new DescribeInstancesCommand({ InstanceIds: ids }), o), { signal }).catch((e: unknown) => {
      // A Node whose instance is gone (or a providerID no instance can have): no answer, not an outage.
      if (hasCode(e, 'InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed')) {
        why.push(`DescribeInstances ${ids.join(', ')}: ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      }
      throw e;
    });
    const vpcs = [...new Set((out?.Reservations ?? []).flatMap((r) => r.Instances ?? []).flatMap((i) => (i.VpcId ? [i.VpcId] : [])))].sort();
    if (vpcs.length === 1 && vpcs[0] !== undefined) return { vpcId: vpcs[0], source: `the Nodes' instances (${ids.join(', ')}) through DescribeInstances` };
    if (vpcs.length > 1) why.push(`the Nodes' instances are in several VPCs (${vpcs.join(', ')})`);
    else if (out) why.push(`the Nodes' instances (${ids.join(', ')}) have no VPC`);
  }
  throw new ProviderError('invalid', `cannot tell the cluster's VPC: ${why.join('; ')}; set vpcId in the aws provider's options (--aws-vpc-id)`, { provider });
}
