// Which Services and Ingresses lbc serves, and with which provider. Pure: the caller
// passes the object, the IngressClasses it knows of, and the configuration.
import type { V1Ingress, V1IngressClass, V1Service } from '@kubernetes/client-node';
import type { LbcConfig } from './config.js';

export const LEGACY_INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
export const DEFAULT_INGRESS_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
/** IngressClass `spec.parameters` that name an lbc provider: {apiGroup: lbc.dev, kind: Provider, name: <provider>}. */
export const PROVIDER_PARAMETERS_API_GROUP = 'lbc.dev';
export const PROVIDER_PARAMETERS_KIND = 'Provider';
/** aws-load-balancer-controller's IngressClass parameters (docs/guide/ingress/ingress_class.md): served by lbc's aws provider. */
export const CLASS_PARAMS_API_GROUP = 'elbv2.k8s.aws';
export const CLASS_PARAMS_KIND = 'IngressClassParams';

export type OwnershipVia =
  /** Service spec.loadBalancerClass names a provider's class. */
  | 'loadBalancerClass'
  /** Service without a class, and lbc is configured as the default. */
  | 'defaultClass'
  /** Ingress spec.ingressClassName names an lbc IngressClass. */
  | 'ingressClassName'
  /** Ingress without a class, and the cluster's default IngressClass is lbc's. */
  | 'defaultIngressClass'
  /** Ingress `kubernetes.io/ingress.class` annotation mapped by ingress.classAnnotationMap. */
  | 'legacyAnnotation';

export interface Owned {
  readonly ours: true;
  readonly provider: string;
  /** What selected the provider: the loadBalancerClass, IngressClass name or legacy annotation value. */
  readonly className: string;
  readonly via: OwnershipVia;
}

export interface NotOwned {
  readonly ours: false;
  readonly reason: string;
  /**
   * Whose the object is instead, which decides what lbc may still do to it. Every lbc
   * instance uses the same finalizer (`lbc.dev/load-balancer-cleanup`), so the finalizer
   * alone never says which instance put it there:
   * - `nobody`: no load-balancer controller is addressed (a Service whose type is no
   *   longer LoadBalancer; an Ingress whose IngressClass is gone, or that names none
   *   while no default exists). Every lbc instance reads it the same way and none will
   *   add the finalizer back, so one holding it cleans up: deletes its LB, clears the
   *   status, drops the finalizer (upstream's needsCleanup does this on a type change).
   * - `another`: addressed to another controller (a loadBalancerClass or IngressClass
   *   that is not this instance's, a class-less Service while this instance is not the
   *   default). Hands off: no status or finalizer write, no Event, no provider call for
   *   it. Cleaning up would fight that controller, which puts them back (issue #22:
   *   thousands of writes a minute on one Service between two lbc instances).
   */
  readonly whose: 'nobody' | 'another';
}

/**
 * Addressed to lbc, but it cannot tell which provider should serve it. The reconciler
 * keeps whatever LB exists (a typo in an IngressClass must not tear LBs down) and
 * reports the reason as a Warning.
 */
export interface OwnedMisconfigured {
  readonly ours: true;
  readonly provider: null;
  readonly reason: string;
}

export type ServiceOwnership = Owned | NotOwned;
export type IngressOwnership = Owned | NotOwned | OwnedMisconfigured;

export type OwnershipConfig = Pick<LbcConfig, 'providers' | 'defaultClass' | 'ingress'>;

const nobodys = (reason: string): NotOwned => ({ ours: false, reason, whose: 'nobody' });
const anothers = (reason: string): NotOwned => ({ ours: false, reason, whose: 'another' });

function providerByClass(config: OwnershipConfig, className: string): string | undefined {
  return config.providers.find((p) => p.class === className)?.name;
}

export function serviceOwnership(service: V1Service, config: OwnershipConfig): ServiceOwnership {
  const type = service.spec?.type ?? 'ClusterIP';
  // The API server drops loadBalancerClass with the type, so no class says whose it was.
  if (type !== 'LoadBalancer') return nobodys(`type is ${type}, not LoadBalancer`);
  const cls = service.spec?.loadBalancerClass;
  if (cls !== undefined && cls !== '') {
    const provider = providerByClass(config, cls);
    return provider !== undefined
      ? { ours: true, provider, className: cls, via: 'loadBalancerClass' }
      : anothers(`loadBalancerClass ${cls} is not one of lbc's classes`);
  }
  // Class-less Services are the default controller's. An instance restarted without
  // defaultClass may have served them before and left its finalizer and LB on them, but
  // it cannot tell that finalizer from the one the instance that is the default now put
  // there; removing it would fight that instance. It leaves them as they are: the
  // operator who takes the default away from lbc moves or deletes those Services first.
  if (config.defaultClass === undefined) return anothers('no loadBalancerClass, and lbc is not configured as the default (defaultClass)');
  const provider = providerByClass(config, config.defaultClass);
  if (provider === undefined) return anothers(`defaultClass ${config.defaultClass} names no configured provider`);
  return { ours: true, provider, className: config.defaultClass, via: 'defaultClass' };
}

export function isOurIngressClass(ingressClass: V1IngressClass, config: OwnershipConfig): boolean {
  return ingressClass.spec?.controller === config.ingress.controllerName;
}

/** The provider an lbc IngressClass names in spec.parameters, else the default class's provider. */
function providerOfIngressClass(ic: V1IngressClass, config: OwnershipConfig, via: OwnershipVia): Owned | OwnedMisconfigured {
  const name = ic.metadata?.name ?? '';
  const params = ic.spec?.parameters;
  if (params?.apiGroup === CLASS_PARAMS_API_GROUP && params.kind === CLASS_PARAMS_KIND) return awsProviderOfClass(name, config, via);
  if (params) {
    if (params.apiGroup !== PROVIDER_PARAMETERS_API_GROUP || params.kind !== PROVIDER_PARAMETERS_KIND) {
      return {
        ours: true,
        provider: null,
        reason: `IngressClass ${name}: spec.parameters must be {apiGroup: ${PROVIDER_PARAMETERS_API_GROUP}, kind: ${PROVIDER_PARAMETERS_KIND}, name: <provider>}, got {apiGroup: ${params.apiGroup ?? ''}, kind: ${params.kind}}`,
      };
    }
    if (!config.providers.some((p) => p.name === params.name)) {
      return {
        ours: true,
        provider: null,
        reason: `IngressClass ${name}: spec.parameters.name ${params.name} is not a configured provider (${config.providers.map((p) => p.name).join(', ')})`,
      };
    }
    return { ours: true, provider: params.name, className: name, via };
  }
  const fallback =
    config.defaultClass !== undefined
      ? providerByClass(config, config.defaultClass)
      : config.providers.length === 1
        ? config.providers[0]?.name
        : undefined;
  if (fallback === undefined) {
    return {
      ours: true,
      provider: null,
      reason: `IngressClass ${name} has no spec.parameters naming a provider, and there is no defaultClass to fall back on`,
    };
  }
  return { ours: true, provider: fallback, className: name, via };
}

/**
 * An IngressClass with aws-load-balancer-controller's IngressClassParams is served by an
 * aws provider: the default class's when it is one, else the only one configured.
 */
function awsProviderOfClass(name: string, config: OwnershipConfig, via: OwnershipVia): Owned | OwnedMisconfigured {
  const aws = config.providers.filter((p) => p.type === 'aws');
  const byDefault = aws.find((p) => p.class === config.defaultClass);
  const chosen = byDefault ?? (aws.length === 1 ? aws[0] : undefined);
  if (chosen) return { ours: true, provider: chosen.name, className: name, via };
  return {
    ours: true,
    provider: null,
    reason:
      aws.length === 0
        ? `IngressClass ${name}: spec.parameters name ${CLASS_PARAMS_KIND} (${CLASS_PARAMS_API_GROUP}), which only an aws provider serves, and none is configured`
        : `IngressClass ${name}: spec.parameters name ${CLASS_PARAMS_KIND} (${CLASS_PARAMS_API_GROUP}), and ${aws.length} aws providers are configured (${aws.map((p) => p.name).join(', ')}) with none as defaultClass: lbc cannot tell which serves the class`,
  };
}

export function ingressOwnership(ingress: V1Ingress, ingressClasses: readonly V1IngressClass[], config: OwnershipConfig): IngressOwnership {
  // The API server refuses an Ingress with both the field and the annotation, so the order here only matters for old objects.
  const className = ingress.spec?.ingressClassName;
  const served = config.ingress.className;
  if (served !== undefined) {
    // As aws-load-balancer-controller with --ingress-class (pkg/ingress/class_annotation_matcher.go;
    // manageIngressesWithoutIngressClass is false once the flag is set): one class, and no class-less Ingresses.
    // The rest are another deployment's (hands off), not objects that stopped being ours.
    const named = className || ingress.metadata?.annotations?.[LEGACY_INGRESS_CLASS_ANNOTATION] || undefined;
    if (named !== served) return anothers(`${named === undefined ? 'no ingress class' : `ingress class ${named}`}, and lbc serves only ${served} (ingress.className)`);
  }
  if (className !== undefined && className !== '') {
    const ic = ingressClasses.find((c) => c.metadata?.name === className);
    // Every instance sees the same (missing) class, so none will add the finalizer back.
    if (!ic) return nobodys(`IngressClass ${className} does not exist`);
    if (!isOurIngressClass(ic, config)) return anothers(`IngressClass ${className} belongs to controller ${ic.spec?.controller ?? '(none)'}`);
    return providerOfIngressClass(ic, config, 'ingressClassName');
  }
  const legacy = ingress.metadata?.annotations?.[LEGACY_INGRESS_CLASS_ANNOTATION];
  if (legacy !== undefined && legacy !== '') {
    const provider = config.ingress.classAnnotationMap[legacy];
    return provider !== undefined
      ? { ours: true, provider, className: legacy, via: 'legacyAnnotation' }
      : anothers(`${LEGACY_INGRESS_CLASS_ANNOTATION}: ${legacy} is not in ingress.classAnnotationMap`);
  }
  const defaults = ingressClasses.filter((c) => c.metadata?.annotations?.[DEFAULT_INGRESS_CLASS_ANNOTATION] === 'true');
  const [only, ...more] = defaults;
  if (!only) return nobodys('no ingressClassName, no legacy class annotation, and no default IngressClass');
  // Kubernetes' own admission refuses to pick between several defaults; so do we, and
  // tear nothing down over what may be a moment's double default.
  if (more.length > 0) {
    return anothers(`no ingressClassName, and ${defaults.length} IngressClasses are marked default (${defaults.map((c) => c.metadata?.name ?? '').join(', ')})`);
  }
  if (!isOurIngressClass(only, config)) return anothers(`the default IngressClass ${only.metadata?.name ?? ''} belongs to controller ${only.spec?.controller ?? '(none)'}`);
  return providerOfIngressClass(only, config, 'defaultIngressClass');
}
