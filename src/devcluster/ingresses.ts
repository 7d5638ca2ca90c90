// Ingress and IngressClass validation as networking/validation in kube-apiserver words it:
// lbc's Ingress tests rely on the API server refusing what it cannot route.
import { fieldError, invalid, type StatusCause } from './errors.js';
import { isObject, type KObject } from './objects.js';
import type { Strategy } from './resources.js';

const GROUP = 'networking.k8s.io';
const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const HOST = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CONTROLLER = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/._~%!$&'()*+,;=:@-]+$/;

function backendErrors(b: unknown, at: string): StatusCause[] {
  if (!isObject(b)) return [fieldError.required(at)];
  const hasService = isObject(b.service);
  const hasResource = isObject(b.resource);
  if (hasService && hasResource) return [fieldError.invalid(at, b, 'cannot set both service and resource backends')];
  if (!hasService && !hasResource) return [fieldError.required(at, 'one backend (`service` or `resource`) must be specified')];
  if (hasService) {
    const svc = b.service as Record<string, unknown>;
    const out: StatusCause[] = [];
    if (typeof svc.name !== 'string' || !svc.name) out.push(fieldError.required(`${at}.service.name`));
    const port = isObject(svc.port) ? svc.port : {};
    const hasName = typeof port.name === 'string' && port.name !== '';
    const hasNumber = typeof port.number === 'number' && port.number !== 0;
    if (hasName === hasNumber) out.push(fieldError.invalid(`${at}.service.port`, port, 'cannot set both port name & port number'));
    if (hasNumber && ((port.number as number) < 1 || (port.number as number) > 65535)) {
      out.push(fieldError.invalid(`${at}.service.port.number`, port.number, 'must be between 1 and 65535, inclusive'));
    }
    return out;
  }
  return [];
}

function validateIngress(obj: KObject): StatusCause[] {
  const spec = isObject(obj.spec) ? obj.spec : {};
  const out: StatusCause[] = [];
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  if (!spec.defaultBackend && rules.length === 0) {
    out.push(fieldError.invalid('spec', spec, 'either `defaultBackend` or `rules` must be specified'));
  }
  if (spec.defaultBackend) out.push(...backendErrors(spec.defaultBackend, 'spec.defaultBackend'));
  rules.forEach((r: unknown, i: number) => {
    const rule = isObject(r) ? r : {};
    const at = `spec.rules[${i}]`;
    if (rule.host !== undefined && (typeof rule.host !== 'string' || !HOST.test(rule.host))) {
      out.push(fieldError.invalid(`${at}.host`, rule.host, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"));
    }
    const http = isObject(rule.http) ? rule.http : undefined;
    if (!http) return;
    const paths = Array.isArray(http.paths) ? http.paths : [];
    if (paths.length === 0) out.push(fieldError.required(`${at}.http.paths`));
    paths.forEach((p: unknown, j: number) => {
      const path = isObject(p) ? p : {};
      const pat = `${at}.http.paths[${j}]`;
      if (path.pathType === undefined || path.pathType === null || path.pathType === '') {
        out.push(fieldError.required(`${pat}.pathType`, 'pathType must be specified'));
      } else if (!PATH_TYPES.includes(String(path.pathType))) {
        out.push(fieldError.notSupported(`${pat}.pathType`, path.pathType, PATH_TYPES));
      } else if (path.pathType !== 'ImplementationSpecific' && !(typeof path.path === 'string' && path.path.startsWith('/'))) {
        out.push(fieldError.invalid(`${pat}.path`, path.path ?? '', 'must be an absolute path'));
      }
      out.push(...backendErrors(path.backend, `${pat}.backend`));
    });
  });
  const tls = Array.isArray(spec.tls) ? spec.tls : [];
  tls.forEach((t: unknown, i: number) => {
    const hosts = isObject(t) && Array.isArray(t.hosts) ? t.hosts : [];
    hosts.forEach((h: unknown, j: number) => {
      if (typeof h !== 'string' || !HOST.test(h)) out.push(fieldError.invalid(`spec.tls[${i}].hosts[${j}]`, h, 'a lowercase RFC 1123 subdomain'));
    });
  });
  return out;
}

export function ingressStrategy(): Strategy {
  const check = (obj: KObject) => {
    const causes = validateIngress(obj);
    if (causes.length) throw invalid('Ingress', GROUP, obj.metadata.name!, causes, 'Ingress.networking.k8s.io');
  };
  return { prepareCreate: check, prepareUpdate: check };
}

export function ingressClassStrategy(): Strategy {
  const check = (obj: KObject, old?: KObject) => {
    const spec = isObject(obj.spec) ? obj.spec : {};
    const causes: StatusCause[] = [];
    if (typeof spec.controller !== 'string' || !spec.controller) causes.push(fieldError.required('spec.controller'));
    else if (spec.controller.length > 250 || !CONTROLLER.test(spec.controller)) {
      causes.push(fieldError.invalid('spec.controller', spec.controller, 'must be a domain-prefixed path (such as "acme.io/foo")'));
    }
    if (old && isObject(old.spec) && old.spec.controller !== spec.controller) {
      causes.push(fieldError.invalid('spec.controller', spec.controller, 'field is immutable'));
    }
    if (causes.length) throw invalid('IngressClass', GROUP, obj.metadata.name!, causes, 'IngressClass.networking.k8s.io');
  };
  return { prepareCreate: (o) => check(o), prepareUpdate: (o, old) => check(o, old) };
}
