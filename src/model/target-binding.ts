// A target binding: targets (a Service's pods or nodes) put into a target group the user
// made and owns, with the network access the user asked for, as aws-load-balancer-controller's
// TargetGroupBinding (elbv2.k8s.aws/v1beta1) does. The provider registers and deregisters
// targets and manages only the access rules it tagged; the group itself is never changed.
// What reaches the provider is this model, never the Kubernetes object.
import type { NodeTarget, PodTarget, TargetType } from './spec.js';

/** Which binding: the object's identity, tagged on every rule made for it. */
export interface TargetBindingRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** Where allowed traffic comes from: a security group, or a CIDR block (IPv4 or IPv6). */
export type AccessPeer = { readonly securityGroup: string } | { readonly cidr: string };

/** One inbound permission on the targets' security groups; toPort === fromPort for one port, 0-65535 for all. */
export interface AccessRule {
  readonly from: AccessPeer;
  readonly protocol: 'tcp' | 'udp';
  readonly fromPort: number;
  readonly toPort: number;
}

export interface TargetBinding {
  readonly ref: TargetBindingRef;
  readonly clusterName: string;
  /** spec.serviceRef.name, for messages. */
  readonly service: string;
  /** spec.targetGroupARN, else spec.targetGroupName (resolved by the provider). */
  readonly targetGroup: { readonly arn: string } | { readonly name: string };
  /** As the user wrote it; absent: the group's own target type decides, as aws-load-balancer-controller's defaulting webhook does. */
  readonly targetType?: TargetType;
  readonly ipAddressType?: 'ipv4' | 'ipv6';
  /** spec.vpcID: the target group's VPC, when it is not the cluster's. */
  readonly vpcId?: string;
  /** spec.targetGroupProtocol: checked against the group's. */
  readonly protocol?: string;
  /**
   * Both candidate target lists, since the group's type decides when targetType is absent:
   * the Service's ready endpoints (pod IP and port), and the nodes with the Service's node
   * port (absent when the Service has none, so instance targets are impossible).
   */
  readonly podTargets: readonly PodTarget[];
  readonly nodeTargets?: { readonly nodePort: number; readonly nodes: readonly NodeTarget[] };
  /** spec.networking.ingress, ports resolved to numbers. */
  readonly access: readonly AccessRule[];
}

/** What a bind did, for Events and status. */
export interface TargetBindingResult {
  readonly targetGroupArn: string;
  readonly targetType: TargetType;
  readonly registered: number;
  readonly deregistered: number;
  /** Targets in the group after the bind. */
  readonly targets: number;
  /** Things the user should hear about that did not stop the bind (targets skipped, ...). */
  readonly warnings: readonly string[];
}
