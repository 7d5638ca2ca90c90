// clusterName must be the name the cluster's subnets and node security groups carry in
// `kubernetes.io/cluster/<name>` (what EKS, eksctl and kops tag them with). A different
// name fails quietly everywhere: discovery turns down subnets "tagged for another
// cluster", and backend rules find no node security group. So once per VPC, at the first
// ensure, lbc reads what the VPC's subnets and security groups are tagged for and says
// it plainly when its own name is on none of them but another cluster's is.
import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand, type Tag } from '@aws-sdk/client-ec2';
import { TAG_CLUSTER } from '../../model/spec.js';
import type { AwsApi } from './api.js';
import { CLUSTER_TAG_PREFIX } from './subnets.js';

interface Tagged {
  readonly id: string;
  readonly clusters: string[];
}

const clustersOf = (tags: readonly Tag[] | undefined): string[] =>
  (tags ?? []).flatMap((t) => (t.Key?.startsWith(CLUSTER_TAG_PREFIX) ? [t.Key.slice(CLUSTER_TAG_PREFIX.length)] : []));

async function taggedInVpc(api: AwsApi, vpcId: string, signal?: AbortSignal): Promise<Tagged[]> {
  const out: Tagged[] = [];
  const filters = [{ Name: 'vpc-id', Values: [vpcId] }];
  let NextToken: string | undefined;
  do {
    const page = await api.ec2('DescribeSubnets', (c, o) => c.send(new DescribeSubnetsCommand({ Filters: filters, ...(NextToken ? { NextToken } : {}) }), o), { signal });
    for (const s of page.Subnets ?? []) out.push({ id: s.SubnetId ?? '', clusters: clustersOf(s.Tags) });
    NextToken = page.NextToken;
  } while (NextToken);
  do {
    const page = await api.ec2('DescribeSecurityGroups', (c, o) => c.send(new DescribeSecurityGroupsCommand({ Filters: filters, ...(NextToken ? { NextToken } : {}) }), o), { signal });
    for (const g of page.SecurityGroups ?? []) {
      // lbc's own groups are no evidence of what the cluster owner tagged.
      if ((g.Tags ?? []).some((t) => t.Key === TAG_CLUSTER)) continue;
      out.push({ id: g.GroupId ?? '', clusters: clustersOf(g.Tags) });
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

/**
 * A message when the VPC's subnets and security groups carry cluster tags, none of them
 * clusterName's; undefined when the name is found or nothing carries a cluster tag at all.
 */
export async function clusterNameMismatch(api: AwsApi, clusterName: string, vpcId: string, signal?: AbortSignal): Promise<string | undefined> {
  const tagged = (await taggedInVpc(api, vpcId, signal)).filter((t) => t.clusters.length > 0);
  if (tagged.length === 0 || tagged.some((t) => t.clusters.includes(clusterName))) return undefined;
  const names = [...new Set(tagged.flatMap((t) => t.clusters))].sort();
  const ids = tagged.map((t) => t.id).sort();
  const shown = ids.length > 6 ? `${ids.slice(0, 6).join(', ')} and ${ids.length - 6} more` : ids.join(', ');
  return (
    `clusterName ${JSON.stringify(clusterName)} is on no ${CLUSTER_TAG_PREFIX}<name> tag in ${vpcId}: its subnets and security groups are tagged for ` +
    `${names.map((n) => JSON.stringify(n)).join(', ')} (${shown}), so subnet discovery turns them down and no node security group gets backend rules; ` +
    `set clusterName (--cluster-name) to the cluster's name, or tag them ${CLUSTER_TAG_PREFIX}${clusterName}`
  );
}
