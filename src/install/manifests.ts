// Everything `kubectl apply` needs to run lbc in a cluster, for one provider: the
// objects `lbc manifests` prints, deploy/<provider>/lbc.yaml holds and the Helm chart
// renders. Pure: same options, same bytes.
import { stringify } from 'yaml';
import { DEFAULT_GATEWAY_CONTROLLER, DEFAULT_INGRESS_CONTROLLER } from '../config/config.js';
import { PROVIDER_PARAMETERS_API_GROUP, PROVIDER_PARAMETERS_KIND } from '../config/ownership.js';
import { DEFAULT_PROJECT, installConfigYaml, type InstallProvider, type InstallSettings } from './config-file.js';
import { rbacObjects } from './rbac.js';
import { CONTROLLER_RESOURCES, controllerDeployment, SPEAKER_RESOURCES, speakerDaemonSet } from './workloads.js';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export const DEFAULT_NAMESPACE = 'lbc-system';
export const DEFAULT_CLUSTER_NAME = 'lbc';
export const DEFAULT_REPLICAS = 2;
export const LBC_VERSION = '0.1.0';
/** What `docker build -t lbc:0.1.0 .` makes; push it to your registry and pass --image. */
export const DEFAULT_IMAGE = `lbc:${LBC_VERSION}`;
// Placeholders in the shape the clouds expect (111122223333 is AWS's documentation account).
export const DEFAULT_AWS_ROLE_ARN = 'arn:aws:iam::111122223333:role/lbc-controller';
export const defaultGcpServiceAccount = (project: string): string => `lbc-controller@${project}.iam.gserviceaccount.com`;

/** How the controller's ServiceAccount is bound to cloud credentials: no secret ever sits in the manifests. */
export const IRSA_ANNOTATION = 'eks.amazonaws.com/role-arn';
export const WORKLOAD_IDENTITY_ANNOTATION = 'iam.gke.io/gcp-service-account';

export const CONFIG_MAP = 'lbc-config';
export const CONTROLLER_SERVICE_ACCOUNT = 'lbc-controller';
export const SPEAKER_SERVICE_ACCOUNT = 'lbc-speaker';
export const INGRESS_CLASS = 'lbc';

export interface InstallOptions extends InstallSettings {
  readonly provider: InstallProvider;
  readonly namespace?: string;
  readonly clusterName?: string;
  readonly image?: string;
  readonly replicas?: number;
  /** aws: the IAM role (with deploy/aws/iam-policy.json) the controller assumes through IRSA. */
  readonly awsRoleArn?: string;
  /** gce: the Google service account (with deploy/gce/role.yaml) bound through Workload Identity. */
  readonly gcpServiceAccount?: string;
  /**
   * Also print a GatewayClass for the provider. Off by default: applying it needs the
   * Gateway API CRDs, which users install from the upstream release (lbc does not ship them).
   */
  readonly gatewayClass?: boolean;
}

/** The GatewayClass `lbc manifests --gateway-class` prints: `lbc-<provider>`. */
export const gatewayClassName = (provider: string): string => `lbc-${provider}`;

const LABELS = { 'app.kubernetes.io/name': 'lbc' };

function cloudAnnotations(o: InstallOptions): Record<string, string> | undefined {
  if (o.provider === 'aws') return { [IRSA_ANNOTATION]: o.awsRoleArn ?? DEFAULT_AWS_ROLE_ARN };
  if (o.provider === 'gce') return { [WORKLOAD_IDENTITY_ANNOTATION]: o.gcpServiceAccount ?? defaultGcpServiceAccount(o.project ?? DEFAULT_PROJECT) };
  return undefined;
}

export function buildManifests(o: InstallOptions): KubeObject[] {
  const namespace = o.namespace ?? DEFAULT_NAMESPACE;
  const clusterName = o.clusterName ?? DEFAULT_CLUSTER_NAME;
  const image = o.image ?? DEFAULT_IMAGE;
  const labels = { ...LABELS };
  const annotations = cloudAnnotations(o);
  const out: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels } },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: CONTROLLER_SERVICE_ACCOUNT, namespace, labels, ...(annotations ? { annotations } : {}) },
    },
    ...rbacObjects('controller', namespace, CONTROLLER_SERVICE_ACCOUNT, labels),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: CONFIG_MAP, namespace, labels },
      data: { 'config.yaml': installConfigYaml(o.provider, clusterName, namespace, o) },
    },
    controllerDeployment({
      namespace,
      image,
      replicas: o.replicas ?? DEFAULT_REPLICAS,
      labels,
      configMap: CONFIG_MAP,
      serviceAccount: CONTROLLER_SERVICE_ACCOUNT,
      resources: CONTROLLER_RESOURCES,
    }),
  ];
  if (o.provider === 'metal') {
    out.push(
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: SPEAKER_SERVICE_ACCOUNT, namespace, labels } },
      ...rbacObjects('speaker', namespace, SPEAKER_SERVICE_ACCOUNT, labels),
      speakerDaemonSet({ namespace, image, labels, configMap: CONFIG_MAP, serviceAccount: SPEAKER_SERVICE_ACCOUNT, resources: SPEAKER_RESOURCES }),
    );
  } else {
    // metal is L4 only; the others serve Ingresses of this class with the one provider.
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: INGRESS_CLASS, labels },
      spec: {
        controller: DEFAULT_INGRESS_CONTROLLER,
        parameters: { apiGroup: PROVIDER_PARAMETERS_API_GROUP, kind: PROVIDER_PARAMETERS_KIND, name: o.provider },
      },
    });
  }
  if (o.gatewayClass) {
    // Last: it is the one object that needs CRDs of its own; everything before applies without them.
    out.push({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: gatewayClassName(o.provider), labels },
      spec: {
        controllerName: o.gatewayControllerName ?? DEFAULT_GATEWAY_CONTROLLER,
        parametersRef: { group: PROVIDER_PARAMETERS_API_GROUP, kind: PROVIDER_PARAMETERS_KIND, name: o.provider },
      },
    });
  }
  return out;
}

/** A multi-document YAML stream, in apply order (Namespace first). */
export function manifestsYaml(o: InstallOptions): string {
  const header = `# lbc ${LBC_VERSION} with the ${o.provider} provider, generated by \`lbc manifests\` (deploy/*/lbc.yaml: \`npm run manifests\`).\n`;
  return header + buildManifests(o).map((obj) => `---\n${stringify(obj, { lineWidth: 0, aliasDuplicateObjects: false })}`).join('');
}
