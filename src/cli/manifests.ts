// `lbc manifests --provider aws|gce|metal|local`: prints the YAML that installs lbc, for
// `kubectl apply -f -`. deploy/<provider>/lbc.yaml is this command's output with the defaults.
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_GATEWAY_CONTROLLER } from '../config/config.js';
import { checkInstallConfig, installConfig, INSTALL_PROVIDERS, type InstallProvider } from '../install/config-file.js';
import { DEFAULT_CLUSTER_NAME, DEFAULT_IMAGE, DEFAULT_NAMESPACE, DEFAULT_REPLICAS, manifestsYaml, type InstallOptions } from '../install/manifests.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function dnsLabel(v: string): string {
  if (v.length > 63 || !DNS_LABEL.test(v)) throw new InvalidArgumentError('must be a DNS label (lower-case letters, digits and -)');
  return v;
}

function replicas(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 10) throw new InvalidArgumentError('must be an integer 1-10');
  return n;
}

export interface ManifestsFlags {
  provider: InstallProvider;
  namespace: string;
  clusterName: string;
  image: string;
  replicas: number;
  region?: string;
  project?: string;
  addresses?: string;
  awsRoleArn?: string;
  gcpServiceAccount?: string;
  gatewayClass?: boolean;
  gatewayControllerName?: string;
}

export function installOptionsFromFlags(f: ManifestsFlags): InstallOptions {
  const o: InstallOptions = {
    provider: f.provider,
    namespace: f.namespace,
    clusterName: f.clusterName,
    image: f.image,
    replicas: f.replicas,
    ...(f.region ? { region: f.region } : {}),
    ...(f.project ? { project: f.project } : {}),
    ...(f.addresses ? { addresses: f.addresses.split(',').map((a) => a.trim()).filter(Boolean) } : {}),
    ...(f.awsRoleArn ? { awsRoleArn: f.awsRoleArn } : {}),
    ...(f.gcpServiceAccount ? { gcpServiceAccount: f.gcpServiceAccount } : {}),
    ...(f.gatewayClass ? { gatewayClass: true } : {}),
    ...(f.gatewayControllerName ? { gatewayControllerName: f.gatewayControllerName } : {}),
  };
  // The same check `lbc run` makes at start: refuse here rather than ship a config that cannot start.
  checkInstallConfig(installConfig(o.provider, f.clusterName, f.namespace, o));
  return o;
}

export function manifestsCommand(): Command {
  return new Command('manifests')
    .description('print the YAML that installs lbc in a cluster (kubectl apply -f -)')
    .addOption(new Option('--provider <type>', 'which provider the controller runs').choices(INSTALL_PROVIDERS).makeOptionMandatory())
    .option('--namespace <ns>', 'namespace for the controller, its Leases and its configuration', dnsLabel, DEFAULT_NAMESPACE)
    .option('--cluster-name <name>', 'clusterName: tags (aws) or labels (gce) every cloud resource lbc creates', dnsLabel, DEFAULT_CLUSTER_NAME)
    .option('--image <ref>', 'the lbc image', DEFAULT_IMAGE)
    .option('--replicas <n>', 'controller replicas (one leads, the others stand by)', replicas, DEFAULT_REPLICAS)
    .option('--region <region>', 'aws, gce: the region of the cluster')
    .option('--project <id>', 'gce: the project of the cluster')
    .option('--addresses <list>', 'metal: the address pool, comma-separated CIDRs or first-last ranges')
    .option('--aws-role-arn <arn>', 'aws: the IAM role for the controller (IRSA), with deploy/aws/iam-policy.json attached')
    .option('--gateway-class', 'also print a GatewayClass (lbc-<provider>) for this provider; needs the Gateway API CRDs installed')
    .option('--gateway-controller-name <name>', `the GatewayClass controllerName this install serves (config gateway.controllerName; default ${DEFAULT_GATEWAY_CONTROLLER}): give a second install its own`)
    .option('--gcp-service-account <email>', 'gce: the Google service account for the controller (Workload Identity), with deploy/gce/role.yaml')
    .action((f: ManifestsFlags) => {
      process.stdout.write(manifestsYaml(installOptionsFromFlags(f)));
    });
}
