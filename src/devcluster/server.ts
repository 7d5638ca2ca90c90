// The HTTP face of devcluster: routing of Kubernetes REST paths onto the store, bearer
// token authentication, content negotiation (JSON, Table) and watch streaming.
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import {
  ApiError,
  badRequest,
  expired,
  forbiddenAnonymous,
  jsonSyntaxMessage,
  methodNotAllowed,
  notFound,
  unauthorized,
  unsupportedMediaType,
  unsupportedPatchType,
  fieldError,
  invalid,
} from './errors.js';
import { checkDecodable } from './decode.js';
import { isObject, type KObject } from './objects.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { apiVersionOf, isServed, type ResourceType } from './resources.js';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector, type FieldRequirement, type LabelSelector } from './selectors.js';
import type { DeleteOptions, Store, StoreEvent } from './store.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery.js';
import { toTable, type IncludeObject } from './table.js';
import { OpenApiV3 } from './openapi.js';
import { fieldValidationMode, fieldWarning, strictDecodingErrors, strictDecodingRefusal, strictJsonPatchErrors, strictPatchRefusal, type FieldValidation } from './field-validation.js';

const MAX_BODY = 3 * 1024 * 1024;

export interface ServerOptions {
  token: string;
  tls: { certPem: string; keyPem: string };
  /** How often a watch with allowWatchBookmarks gets a BOOKMARK. */
  bookmarkIntervalMs?: number;
  /**
   * Opt-in: told of every authenticated request, as kube-apiserver's authorizer sees it,
   * before it is served. Tests hold a client's requests to an RBAC role with it.
   */
  onRequest?: (r: RequestAttributes) => void;
}

/** A request as RBAC judges it: a resource request (verb on group/resource[/subresource]) or a non-resource path. */
export interface RequestAttributes {
  readonly method: string;
  readonly path: string;
  readonly verb: string;
  /** The `fieldManager` query parameter, when the request named one (devcluster keeps no managedFields). */
  readonly fieldManager?: string;
  /** Absent for non-resource paths (discovery, /version). */
  readonly resource?: { readonly group: string; readonly resource: string; readonly subresource?: string; readonly namespace?: string; readonly name?: string };
}

interface Route {
  rt: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: 'status';
  /** Legacy /watch/ path prefix. */
  watchPath: boolean;
}

type Reply = { status: number; body: unknown };

export class ApiServer {
  private readonly server: https.Server;
  private readonly sockets = new Set<Socket>();
  private readonly closers = new Set<() => void>();
  private readonly openapi = new OpenApiV3();

  constructor(
    private readonly store: Store,
    private readonly opts: ServerOptions,
  ) {
    this.server = https.createServer({ cert: opts.tls.certPem, key: opts.tls.keyPem }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => this.fail(res, err));
    });
    this.server.on('secureConnection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  async close(): Promise<void> {
    for (const c of this.closers) c();
    this.closers.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }

  /** 'anonymous' when no credentials came: kube-apiserver authenticates that as system:anonymous. */
  private authenticate(req: http.IncomingMessage): 'ok' | 'anonymous' | 'bad' {
    const h = req.headers.authorization;
    if (!h) return 'anonymous';
    const m = /^Bearer\s+(.+)$/i.exec(h);
    if (!m) return 'bad';
    const a = Buffer.from(m[1]!.trim());
    const b = Buffer.from(this.opts.token);
    return a.length === b.length && timingSafeEqual(a, b) ? 'ok' : 'bad';
  }

  private anonymousDenial(method: string, path: string, q: URLSearchParams): ApiError {
    let route: Route | undefined;
    try {
      route = this.route(path);
    } catch {
      route = undefined;
    }
    const verb = verbOf(method, route, q);
    if (!route) return forbiddenAnonymous({ verb, path });
    return forbiddenAnonymous({
      verb,
      resource: route.rt.plural,
      group: route.rt.group,
      namespace: route.namespace,
      name: route.name,
      path,
    });
  }

  private fail(res: http.ServerResponse, err: unknown): void {
    if (err instanceof PlainNotFound && !res.headersSent) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache, private' });
      res.end('404 page not found\n');
      return;
    }
    const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error)?.message ?? String(err)}`);
    if (e.code === 500) console.error('devcluster: internal error', err);
    if (res.headersSent) {
      res.end();
      return;
    }
    this.send(res, e.code, e.toStatus());
  }

  private send(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private async readBody(req: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://devcluster');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (path === '/healthz' || path === '/readyz' || path === '/livez') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      return;
    }
    const auth = this.authenticate(req);
    if (auth === 'bad') throw unauthorized();
    if (auth === 'anonymous') throw this.anonymousDenial(method, path, url.searchParams);

    const discovery = this.discovery(path);
    if (this.opts.onRequest) this.record(method, path, url.searchParams, discovery !== undefined);
    if (discovery !== undefined) {
      if (method !== 'GET') throw methodNotAllowed();
      if (discovery === null) {
        const group = /^\/apis\/([^/]+)/.exec(path)?.[1];
        if (group !== undefined && !this.builtinGroup(group)) throw new PlainNotFound();
        throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
      }
      this.send(res, 200, discovery);
      return;
    }

    const route = this.route(path);
    const warnings: string[] = [];
    const warn = (w: string) => {
      warnings.push(w);
      // Set at once: a write refused later still carries the warnings gathered before.
      res.setHeader('Warning', warnings);
    };
    if (route.rt.deprecationWarning) warn(`299 - ${JSON.stringify(route.rt.deprecationWarning)}`);
    const q = url.searchParams;
    const wantsWatch = route.watchPath || q.get('watch') === 'true' || q.get('watch') === '1';
    if (method === 'GET' && wantsWatch) {
      if (route.name && !route.watchPath) throw methodNotAllowed();
      this.watch(req, res, route, q);
      return;
    }
    const reply = await this.dispatch(method, route, q, req, warn);
    this.respond(req, res, route, reply);
  }

  private record(method: string, path: string, q: URLSearchParams, nonResource: boolean): void {
    let route: Route | undefined;
    if (!nonResource) {
      try {
        route = this.route(path);
      } catch {
        // A path devcluster does not serve (it answers 404): reported as a bare path, so a
        // client reaching for a resource devcluster lacks is seen, not silently dropped.
        route = undefined;
      }
    }
    const verb = verbOf(method, route, q);
    const fieldManager = q.get('fieldManager');
    this.opts.onRequest?.({
      method,
      path,
      verb,
      ...(fieldManager !== null ? { fieldManager } : {}),
      ...(route
        ? {
            resource: {
              group: route.rt.group,
              resource: route.rt.plural,
              ...(route.subresource ? { subresource: route.subresource } : {}),
              ...(route.namespace !== undefined ? { namespace: route.namespace } : {}),
              ...(route.name !== undefined ? { name: route.name } : {}),
            },
          }
        : {}),
    });
  }

  /** undefined = not a discovery path; null = a discovery path that does not exist. */
  private discovery(path: string): unknown {
    const resources = this.store.resources;
    if (path === '/version') return SERVER_VERSION;
    if (path === '/api') return apiVersions();
    if (path === '/apis') return apiGroupList(resources);
    if (path === '/api/v1') return apiResourceList(resources, 'v1') ?? null;
    if (path === '/openapi/v3') return this.openapi.root(resources);
    if (path.startsWith('/openapi/v3/')) return this.openapi.groupVersion(resources, path.slice('/openapi/v3/'.length)) ?? null;
    if (path === '/openapi/v2') return null;
    const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (m) {
      if (!m[2]) return apiGroup(resources, m[1]!) ?? null;
      return apiResourceList(resources, `${m[1]}/${m[2]}`) ?? null;
    }
    return undefined;
  }

  /** A group with kinds of kube-apiserver's own; other paths under /apis reach the CRD handler. */
  private builtinGroup(group: string): boolean {
    return this.store.resources.some((r) => r.group === group && !r.customResource);
  }

  private route(path: string): Route {
    try {
      return this.resolve(path);
    } catch (err) {
      // apiextensions-apiserver, last in kube-apiserver's chain, answers paths nobody serves with
      // the mux's plain-text 404 rather than a Status (unserved versions of a CRD included).
      const group = /^\/apis\/([^/]+)/.exec(path)?.[1];
      if (err instanceof ApiError && err.code === 404 && group !== undefined && !this.builtinGroup(group)) throw new PlainNotFound();
      throw err;
    }
  }

  private resolve(path: string): Route {
    let segs = path.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version = 'v1';
    if (segs[0] === 'api' && segs[1] === 'v1') {
      group = '';
      segs = segs.slice(2);
    } else if (segs[0] === 'apis' && segs.length >= 3) {
      group = segs[1]!;
      version = segs[2]!;
      if (!this.store.resources.some((r) => r.group === group && r.version === version && isServed(r))) throw pageNotFound();
      segs = segs.slice(3);
    } else throw pageNotFound();
    let watchPath = false;
    if (segs[0] === 'watch') {
      watchPath = true;
      segs = segs.slice(1);
    }
    const lookup = (plural: string | undefined) => {
      const rt = plural ? this.store.find(group, plural, version) : undefined;
      if (!rt || !isServed(rt)) throw pageNotFound();
      return rt;
    };
    let namespace: string | undefined;
    // /namespaces/{ns}/{plural}/... unless it names the Namespace object itself.
    if (segs[0] === 'namespaces' && segs.length >= 3 && !(segs.length === 3 && group === '' && segs[2] === 'status')) {
      namespace = segs[1];
      segs = segs.slice(2);
      const rt = lookup(segs[0]);
      if (!rt.namespaced) throw pageNotFound();
      return this.finishRoute(rt, namespace, segs.slice(1), watchPath);
    }
    const rt = lookup(segs[0]);
    return this.finishRoute(rt, undefined, segs.slice(1), watchPath);
  }

  private finishRoute(rt: ResourceType, namespace: string | undefined, rest: string[], watchPath: boolean): Route {
    if (rest.length > 2) throw pageNotFound();
    const [name, sub] = rest;
    if (sub !== undefined) {
      if (sub !== 'status' || !rt.statusSubresource) throw pageNotFound();
    }
    if (!rt.namespaced && namespace) throw pageNotFound();
    return { rt, namespace, name, subresource: sub as 'status' | undefined, watchPath };
  }

  /** Where a resource's objects live: its own table, or the one a view converts to. */
  private storage(rt: ResourceType): ResourceType {
    if (!rt.view) return rt;
    const srt = this.store.find(rt.view.storage.group, rt.view.storage.plural);
    if (!srt) throw new Error(`view ${rt.plural}.${rt.group} has no storage`);
    return srt;
  }

  /** An object as the requested resource shows it. */
  private out(rt: ResourceType, o: KObject): KObject {
    if (rt.view) return rt.view.fromStorage(o);
    // A CRD's versions share storage and need no conversion (strategy None): only apiVersion differs.
    return o.apiVersion === undefined || o.apiVersion === apiVersionOf(rt) ? o : { ...o, apiVersion: apiVersionOf(rt) };
  }

  /** An object as the requested resource's storage keeps it; a view validates in its own shape first. */
  private in(rt: ResourceType, o: KObject, creating: boolean): KObject {
    if (!rt.view) return o;
    if (creating) rt.strategy?.prepareCreate?.(o, this.store.ctx);
    return rt.view.toStorage(o);
  }

  /** `fieldValidation` on a write's strict decoding errors: Strict refuses it (as `refuse` words it), Warn warns. */
  private applyFieldValidation(mode: FieldValidation, errors: string[], warn: (w: string) => void, refuse: () => ApiError): void {
    if (mode === 'Ignore' || !errors.length) return;
    if (mode === 'Strict') throw refuse();
    for (const e of errors) warn(fieldWarning(e));
  }

  /** fieldValidation for a created or replaced object, refused as its decoder refuses it. */
  private checkBodyFields(mode: FieldValidation, rt: ResourceType, obj: KObject, body: string, warn: (w: string) => void): void {
    if (mode === 'Ignore') return;
    const version = typeof obj.apiVersion === 'string' ? obj.apiVersion.split('/').pop()! : rt.version;
    const kind = typeof obj.kind === 'string' ? obj.kind : rt.kind;
    const errors = strictDecodingErrors(rt, obj, body);
    this.applyFieldValidation(mode, errors, warn, () => strictDecodingRefusal(rt, version, kind, errors));
  }

  private async dispatch(method: string, route: Route, q: URLSearchParams, req: http.IncomingMessage, warn: (w: string) => void): Promise<Reply> {
    const { rt, namespace, name } = route;
    const srt = this.storage(rt);
    const dryRun = q.getAll('dryRun').includes('All');
    const fieldValidation = method === 'POST' || method === 'PUT' || method === 'PATCH' ? fieldValidationMode(method, q) : 'Ignore';
    if (!name) {
      switch (method) {
        case 'GET':
          if (route.subresource) throw methodNotAllowed();
          return { status: 200, body: this.list(rt, namespace, q) };
        case 'POST': {
          if (rt.namespaced && !namespace) throw methodNotAllowed();
          const body = await this.readBody(req);
          const obj = this.parseObject(rt, body, req);
          this.checkBodyFields(fieldValidation, rt, obj, body, warn);
          if (rt.namespaced) {
            if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
              throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
            }
            obj.metadata.namespace = namespace;
          }
          const created = this.store.create(srt, this.in(rt, obj, true), { dryRun });
          return { status: 201, body: this.out(rt, created) };
        }
        case 'DELETE': {
          const opts = this.deleteOptions(q, await this.readBody(req));
          const sel = this.selectors(rt, q);
          const deleted: KObject[] = [];
          for (const o of this.store.listRaw(srt, namespace)) {
            if (!this.matches(o, sel)) continue;
            deleted.push(this.out(rt, this.store.delete(srt, o.metadata.namespace, o.metadata.name!, opts).object));
          }
          return { status: 200, body: { kind: `${rt.kind}List`, apiVersion: apiVersionOf(rt), metadata: { resourceVersion: String(this.store.currentRV()) }, items: deleted } };
        }
        default:
          throw methodNotAllowed();
      }
    }
    if (rt.namespaced && !namespace) throw pageNotFound();
    const gr = { group: rt.group, plural: rt.plural };
    switch (method) {
      case 'GET': {
        const o = this.store.peek(srt, namespace, name);
        if (!o) throw notFound(gr, name);
        return { status: 200, body: this.out(rt, o) };
      }
      case 'PUT': {
        const body = await this.readBody(req);
        const obj = this.parseObject(rt, body, req);
        this.checkBodyFields(fieldValidation, rt, obj, body, warn);
        if (obj.metadata.name && obj.metadata.name !== name) {
          throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
        }
        if (rt.namespaced && obj.metadata.namespace && obj.metadata.namespace !== namespace) {
          throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
        }
        if (!this.store.peek(srt, namespace, name) && rt.createOnUpdate && !route.subresource) {
          obj.metadata = { ...obj.metadata, name, ...(rt.namespaced ? { namespace } : {}) };
          delete obj.metadata.resourceVersion;
          return { status: 201, body: this.out(rt, this.store.create(srt, this.in(rt, obj, true), { dryRun })) };
        }
        const updated = this.store.update(srt, this.in(rt, obj, false), { subresource: route.subresource, ns: namespace, name, dryRun });
        return { status: 200, body: this.out(rt, updated) };
      }
      case 'PATCH': {
        const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
        if (!['application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/json-patch+json'].includes(ct)) {
          throw unsupportedPatchType();
        }
        if (rt.customResource && ct === 'application/strategic-merge-patch+json') {
          // A custom resource has no Go struct carrying patch strategies.
          throw new ApiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');
        }
        const body = await this.readBody(req);
        const stored = this.store.peek(srt, namespace, name);
        if (!stored) throw notFound(gr, name);
        const current = this.out(rt, stored);
        let patch: unknown;
        try {
          patch = JSON.parse(body);
        } catch (e) {
          throw badRequest(`error decoding patch: ${jsonSyntaxMessage(body, e)}`);
        }
        let next: unknown;
        if (ct === 'application/json-patch+json') {
          next = jsonPatch(current, patch, { kind: rt.kind, group: rt.group, name });
        } else {
          if (!isObject(patch)) throw badRequest(`error decoding patch: json: cannot unmarshal ${Array.isArray(patch) ? 'array' : typeof patch} into Go value of type map[string]interface {}`);
          next = ct === 'application/merge-patch+json' ? mergePatch(current, patch) : strategicMergePatch(rt, current, patch);
        }
        if (!isObject(next) || !isObject(next.metadata)) throw badRequest('the patch removed the object metadata');
        const obj = next as KObject;
        if (obj.metadata.name !== name || (rt.namespaced && obj.metadata.namespace !== namespace)) {
          throw badRequest('the patch may not change the object name or namespace');
        }
        checkDecodable(rt, obj);
        const errors = fieldValidation === 'Ignore' ? []
          : ct === 'application/json-patch+json' ? strictJsonPatchErrors(rt, obj, body, patch)
            // Keys a merge patch gives twice are the patched object's duplicates.
            : strictDecodingErrors(rt, obj, ct === 'application/merge-patch+json' ? body : undefined);
        this.applyFieldValidation(fieldValidation, errors, warn, () => strictPatchRefusal(obj, errors));
        // A patch that names a resourceVersion is a precondition; one that does not applies to the latest.
        const patchRV = isObject(patch) && isObject(patch.metadata) ? patch.metadata.resourceVersion : undefined;
        if (typeof patchRV !== 'string' || ct === 'application/json-patch+json') obj.metadata.resourceVersion = current.metadata.resourceVersion;
        const updated = this.store.update(srt, this.in(rt, obj, false), { subresource: route.subresource, ns: namespace, name, dryRun });
        return { status: 200, body: this.out(rt, updated) };
      }
      case 'DELETE': {
        if (route.subresource) throw methodNotAllowed();
        const opts = this.deleteOptions(q, await this.readBody(req));
        const { object, deleted } = this.store.delete(srt, namespace, name, { ...opts, dryRun });
        if (deleted && !rt.returnDeletedObject) {
          return {
            status: 200,
            body: {
              kind: 'Status',
              apiVersion: 'v1',
              metadata: {},
              status: 'Success',
              details: { name, ...(rt.group ? { group: rt.group } : {}), kind: rt.plural, uid: object.metadata.uid },
            },
          };
        }
        return { status: 200, body: this.out(rt, object) };
      }
      default:
        throw methodNotAllowed();
    }
  }

  private parseObject(rt: ResourceType, body: string, req: http.IncomingMessage): KObject {
    const ct = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim();
    if (ct !== 'application/json' && ct !== '*/*' && ct !== '') throw unsupportedMediaType(ct);
    let obj: unknown;
    try {
      obj = JSON.parse(body);
    } catch (e) {
      throw badRequest(`${jsonSyntaxMessage(body, e)}`);
    }
    if (!isObject(obj)) throw badRequest(`the object provided is unrecognized (must be of type ${rt.kind}): couldn't get version/kind; json parse error: json: cannot unmarshal ${Array.isArray(obj) ? 'array' : typeof obj} into Go value of type struct { APIVersion string; Kind string }`);
    const bodyVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : apiVersionOf(rt);
    const bodyKind = typeof obj.kind === 'string' ? obj.kind : rt.kind;
    const shortVersion = bodyVersion.split('/').pop()!;
    if (rt.customResource) checkCustomTypeMeta(rt, bodyVersion, bodyKind, obj);
    if (bodyVersion !== apiVersionOf(rt)) {
      throw badRequest(`${bodyKind} in version "${shortVersion}" cannot be handled as a ${rt.kind}: no kind "${bodyKind}" is registered for version "${bodyVersion}" in scheme "pkg/api/legacyscheme/scheme.go:30"`);
    }
    if (bodyKind !== rt.kind) {
      throw badRequest(`${bodyKind} in version "${shortVersion}" cannot be handled as a ${rt.kind}: converting (${shortVersion}.${bodyKind}) to (${rt.internalGroup}.${rt.kind}): unknown conversion`);
    }
    if (obj.metadata !== undefined && obj.metadata !== null && !isObject(obj.metadata)) {
      throw badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: json: cannot unmarshal ${typeof obj.metadata} into Go struct field ${rt.kind}.metadata of type v1.ObjectMeta`);
    }
    const out = { ...obj, metadata: { ...((obj.metadata as object | undefined) ?? {}) } } as KObject;
    checkDecodable(rt, out);
    return out;
  }

  private deleteOptions(q: URLSearchParams, body: string): DeleteOptions {
    let opts: Record<string, unknown> = {};
    if (body.trim()) {
      try {
        const parsed: unknown = JSON.parse(body);
        if (isObject(parsed)) opts = parsed;
      } catch (e) {
        throw badRequest(`error decoding DeleteOptions: ${jsonSyntaxMessage(body, e)}`);
      }
    }
    const policy = (q.get('propagationPolicy') ?? opts.propagationPolicy) as string | undefined;
    if (policy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(policy)) {
      throw new ApiError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
    }
    const grace = q.get('gracePeriodSeconds') ?? opts.gracePeriodSeconds;
    const pre = isObject(opts.preconditions) ? (opts.preconditions as DeleteOptions['preconditions']) : undefined;
    const orphan = opts.orphanDependents === true ? 'Orphan' : undefined;
    return {
      propagationPolicy: (policy ?? orphan) as DeleteOptions['propagationPolicy'],
      preconditions: pre,
      gracePeriodSeconds: grace === undefined || grace === null ? undefined : Number(grace),
    };
  }

  /** Selectors as given, with a view's field paths translated to its storage's. */
  private selectors(rt: ResourceType, q: URLSearchParams): { labels: LabelSelector; fields: FieldRequirement[] } {
    const supported = ['metadata.name', 'metadata.namespace', ...rt.fieldSelectors];
    let fields: FieldRequirement[];
    try {
      fields = parseFieldSelector(q.get('fieldSelector') ?? undefined, supported);
    } catch (e) {
      const m = e instanceof ApiError ? /^field label not supported: (.*)$/.exec(e.message) : null;
      if (!m) throw e;
      throw badRequest(`"${m[1]}" is not a known field selector: only ${supported.map((f) => `"${f}"`).join(', ')}`);
    }
    if (rt.view) fields = fields.map((f) => ({ ...f, path: rt.view!.fieldPaths[f.path] ?? f.path }));
    return { labels: parseLabelSelector(q.get('labelSelector') ?? undefined), fields };
  }

  private matches(o: KObject, sel: { labels: LabelSelector; fields: FieldRequirement[] }): boolean {
    return matchLabels(sel.labels, o.metadata.labels) && matchFields(sel.fields, o);
  }

  private list(rt: ResourceType, namespace: string | undefined, q: URLSearchParams): Record<string, unknown> {
    const srt = this.storage(rt);
    const sel = this.selectors(rt, q);
    const rvParam = q.get('resourceVersion');
    const cont = q.get('continue');
    if (cont && rvParam) throw badRequest('specifying resource version is not allowed when using continue');
    if (rvParam && !/^\d+$/.test(rvParam)) throw badRequest(`invalid resource version: ${rvParam}`);
    let items = this.store.listRaw(srt, namespace);
    let listRV = this.store.currentRV();
    if (cont) {
      const token = decodeContinue(cont);
      listRV = token.rv;
      // Later pages belong to the first page's snapshot: objects created since are left out.
      items = items.filter((o) => objectKey(o) > token.start && this.store.createdRV(srt, o) <= token.rv);
    }
    const filtered = sel.labels.length || sel.fields.length ? items.filter((o) => this.matches(o, sel)) : items;
    const limit = Number(q.get('limit') ?? 0);
    const meta: Record<string, unknown> = { resourceVersion: String(listRV) };
    let page = filtered;
    if (limit > 0 && filtered.length > limit) {
      page = filtered.slice(0, limit);
      meta.continue = encodeContinue(listRV, objectKey(page[page.length - 1]!));
      if (!sel.labels.length && !sel.fields.length) meta.remainingItemCount = filtered.length - limit;
    }
    return {
      kind: `${rt.kind}List`,
      apiVersion: apiVersionOf(rt),
      metadata: meta,
      items: page.map((o) => stripTypeMeta(this.out(rt, o))),
    };
  }

  private respond(req: http.IncomingMessage, res: http.ServerResponse, route: Route, reply: Reply): void {
    const table = wantsTable(req);
    if (table && isObject(reply.body) && reply.body.kind !== 'Status') {
      const body = reply.body as Record<string, unknown>;
      const include = includeObject(req);
      if (Array.isArray(body.items)) {
        this.send(res, reply.status, toTable(route.rt, body.items as KObject[], body.metadata as Record<string, unknown>, include));
      } else {
        const o = body as KObject;
        this.send(res, reply.status, toTable(route.rt, [o], { resourceVersion: o.metadata.resourceVersion }, include));
      }
      return;
    }
    this.send(res, reply.status, reply.body);
  }

  private watch(req: http.IncomingMessage, res: http.ServerResponse, route: Route, q: URLSearchParams): void {
    const { rt, namespace } = route;
    const srt = this.storage(rt);
    const sel = this.selectors(rt, q);
    if (route.name) sel.fields.push({ path: 'metadata.name', value: route.name, negate: false });
    const rvParam = q.get('resourceVersion') ?? '';
    if (rvParam !== '' && !/^\d+$/.test(rvParam)) throw badRequest(`invalid resource version: ${rvParam}`);
    const table = wantsTable(req);
    const include = includeObject(req);
    const inScope = (o: KObject) => (!namespace || o.metadata.namespace === namespace) && this.matches(o, sel);

    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const write = (type: string, object: unknown) => {
      const shown = type === 'ERROR' || type === 'BOOKMARK' ? object : this.out(rt, object as KObject);
      const out = table && type !== 'ERROR' && type !== 'BOOKMARK' ? toTable(rt, [shown as KObject], {}, include) : shown;
      res.write(`${JSON.stringify({ type, object: out })}\n`);
    };

    let unsubscribe: (() => void) | undefined;
    const timers: NodeJS.Timeout[] = [];
    const finish = () => {
      unsubscribe?.();
      timers.forEach(clearTimeout);
      this.closers.delete(finish);
      if (!res.writableEnded) res.end();
    };
    this.closers.add(finish);
    req.on('close', finish);
    res.on('close', finish);

    const onEvent = (ev: StoreEvent) => {
      const now = inScope(ev.object);
      const before = ev.old ? inScope(ev.old) : false;
      if (ev.type === 'ADDED') {
        if (now) write('ADDED', ev.object);
      } else if (ev.type === 'DELETED') {
        if (before || now) write('DELETED', ev.object);
      } else if (now && before) write('MODIFIED', ev.object);
      else if (now) write('ADDED', ev.object);
      else if (before) {
        // Leaving the selection: the last state that matched, at the write's resourceVersion.
        write('DELETED', { ...ev.old!, metadata: { ...ev.old!.metadata, resourceVersion: ev.object.metadata.resourceVersion } });
      }
    };

    try {
      if (rvParam === '' || rvParam === '0') {
        for (const o of this.store.listRaw(srt, namespace)) if (inScope(o)) write('ADDED', o);
        unsubscribe = this.store.watch(srt, undefined, onEvent, finish);
      } else {
        unsubscribe = this.store.watch(srt, Number(rvParam), onEvent, finish);
      }
    } catch (err) {
      const e = err instanceof ApiError ? err : expired(String(err));
      write('ERROR', e.toStatus());
      finish();
      return;
    }

    if (q.get('allowWatchBookmarks') === 'true') {
      const every = this.opts.bookmarkIntervalMs ?? 5000;
      const tick = () => {
        write('BOOKMARK', { kind: rt.kind, apiVersion: apiVersionOf(rt), metadata: { resourceVersion: String(this.store.currentRV()) } });
        timers.push(setTimeout(tick, every).unref());
      };
      timers.push(setTimeout(tick, every).unref());
    }
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    if (timeout > 0) timers.push(setTimeout(finish, timeout * 1000).unref());
  }
}

/** The plain-text 404 of Go's ServeMux. */
class PlainNotFound extends Error {
  constructor() {
    super('404 page not found');
  }
}

/** How the unstructured decoder of a custom resource refuses a body of another version or kind. */
function checkCustomTypeMeta(rt: ResourceType, apiVersion: string, kind: string, obj: Record<string, unknown>): void {
  if (apiVersion !== apiVersionOf(rt)) {
    throw badRequest(`the API version in the data (${apiVersion}) does not match the expected API version (${apiVersionOf(rt)})`);
  }
  if (kind !== rt.kind) {
    const name = isObject(obj.metadata) && typeof obj.metadata.name === 'string' ? obj.metadata.name : '';
    throw invalid(kind, rt.group, name, [fieldError.invalid('kind', kind, `must be ${rt.kind}`)], `${kind}.${rt.group}`);
  }
}

function pageNotFound(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

function objectKey(o: KObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name!;
}

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'lbc.dev/devcluster', rv, start })).toString('base64url');
}

/** The authorizer's verb: get/list/watch by name and watch flag, the others by method. */
function verbOf(method: string, route: Route | undefined, q: URLSearchParams): string {
  const watch = q.get('watch') === 'true' || q.get('watch') === '1' || route?.watchPath;
  return !route
    ? method.toLowerCase()
    : method === 'GET'
      ? watch ? 'watch' : route.name ? 'get' : 'list'
      : method === 'POST' ? 'create' : method === 'PUT' ? 'update' : method === 'PATCH' ? 'patch'
        : method === 'DELETE' ? (route.name ? 'delete' : 'deletecollection') : method.toLowerCase();
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const t: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (isObject(t) && typeof t.rv === 'number' && typeof t.start === 'string') return { rv: t.rv, start: t.start };
  } catch {
    // fall through
  }
  throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}

function stripTypeMeta(o: KObject): KObject {
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return rest as KObject;
}

function wantsTable(req: http.IncomingMessage): boolean {
  return /as=Table/.test(req.headers.accept ?? '');
}

function includeObject(req: http.IncomingMessage): IncludeObject {
  const m = /includeObject=(None|Metadata|Object)/.exec(req.url ?? '');
  return (m?.[1] as IncludeObject | undefined) ?? 'Metadata';
}
