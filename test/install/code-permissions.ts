// The API permissions a process needs, read from its source: the files its entry point
// reaches by import, the client-node methods they call (each mapped to its REST path
// and HTTP method by client-node's own generated code), and the resources they run
// informers on (list + watch), named at the call or as the watched kinds'. The result
// is what src/install/rbac.ts must grant.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const CLIENT_APIS = join(ROOT, 'node_modules/@kubernetes/client-node/dist/gen/apis');

export interface UsedPermission {
  readonly apiGroup: string;
  /** `services` or `services/status`. */
  readonly resource: string;
  readonly verb: string;
  /** Where in the source: `src/kube/status.ts: patchNamespacedServiceStatus`. */
  readonly from: string;
}

export const permissionKey = (p: { apiGroup: string; resource: string; verb: string }): string => `${p.apiGroup || 'core'}/${p.resource}:${p.verb}`;

/** Every source file `entry` reaches through relative imports (static and dynamic; type-only imports run nothing). */
export function reachableFiles(entry: string): string[] {
  const seen = new Set<string>();
  const todo = [resolve(ROOT, entry)];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    const specs = [
      ...[...text.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?\sfrom\s+'(\.[^']+)'/gms)].map((m) => m[1]!),
      ...[...text.matchAll(/^import\s+'(\.[^']+)'/gm)].map((m) => m[1]!),
      ...[...text.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g)].map((m) => m[1]!),
    ];
    for (const spec of specs) {
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      if (!existsSync(target)) throw new Error(`${relative(ROOT, file)} imports ${spec}, which is not a .ts file here`);
      todo.push(target);
    }
  }
  return [...seen].sort();
}

interface Endpoint {
  readonly httpMethod: string;
  readonly path: string;
}

/** client-node method name -> its HTTP method and path template, for the API classes lbc's clients are built from. */
export function clientMethods(): Map<string, Endpoint[]> {
  const clientSource = readFileSync(join(ROOT, 'src/kube/client.ts'), 'utf8');
  const classes = [...clientSource.matchAll(/makeApiClient\((\w+)\)/g)].map((m) => m[1]!);
  if (classes.length === 0) throw new Error('src/kube/client.ts builds no API client with makeApiClient');
  const out = new Map<string, Endpoint[]>();
  for (const cls of classes) {
    const text = readFileSync(join(CLIENT_APIS, `${cls}.js`), 'utf8');
    const starts = [...text.matchAll(/\n\s+async (\w+)\(/g)];
    for (const [i, m] of starts.entries()) {
      const chunk = text.slice(m.index, starts[i + 1]?.index ?? text.length);
      const path = /const localVarPath = '([^']+)'/.exec(chunk)?.[1];
      const httpMethod = /HttpMethod\.(\w+)/.exec(chunk)?.[1];
      if (!path || !httpMethod) continue; // a response processor, not a request
      const list = out.get(m[1]!) ?? [];
      list.push({ httpMethod, path });
      out.set(m[1]!, list);
    }
  }
  return out;
}

/** `/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses/{name}/status` -> group, resource, whether named. */
function parsePath(path: string): { apiGroup: string; resource: string; named: boolean } {
  let segs = path.split('/').filter(Boolean);
  let apiGroup: string;
  if (segs[0] === 'api') {
    apiGroup = '';
    segs = segs.slice(2);
  } else {
    apiGroup = segs[1]!;
    segs = segs.slice(3);
  }
  if (segs[0] === 'namespaces' && segs[1] === '{namespace}' && segs.length > 2) segs = segs.slice(2);
  const [plural, name, sub] = segs;
  return { apiGroup, resource: sub ? `${plural}/${sub}` : plural!, named: name === '{name}' };
}

function verbOf(httpMethod: string, named: boolean): string {
  switch (httpMethod) {
    case 'GET':
      return named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      throw new Error(`HTTP method ${httpMethod} has no RBAC verb here`);
  }
}

/** `const Services: ResourceType<V1Service> = { ... path: '/api/v1/services' ... }` definitions: name -> path, and their spans. */
function resourceTypes(text: string): { defs: Map<string, string>; spans: [number, number][] } {
  const defs = new Map<string, string>();
  const spans: [number, number][] = [];
  for (const m of text.matchAll(/const (\w+): ResourceType<[^>]+> = \{([\s\S]*?)\n\};/g)) {
    const path = /\bpath: '([^']+)'/.exec(m[2]!)?.[1];
    if (!path) throw new Error(`ResourceType ${m[1]} has no literal path`);
    defs.set(m[1]!, path);
    spans.push([m.index, m.index + m[0].length]);
  }
  return { defs, spans };
}

/** The methods of src/kube/custom-resources.ts's customObjects(): the verb and subresource each needs. */
const CUSTOM_OBJECT_CALLS: Record<string, { verb: string; sub: string }> = {
  list: { verb: 'list', sub: '' },
  create: { verb: 'create', sub: '' },
  patchStatus: { verb: 'patch', sub: '/status' },
  delete: { verb: 'delete', sub: '' },
};

/** What the process started from `entry` (e.g. src/cli/run.ts) needs, each with where it comes from. */
export function permissionsUsedBy(entry: string): UsedPermission[] {
  const methods = clientMethods();
  const files = reachableFiles(entry).map((f) => ({ name: relative(ROOT, f), text: readFileSync(f, 'utf8') }));
  const types = new Map<string, string>();
  for (const f of files) for (const [k, v] of resourceTypes(f.text).defs) types.set(k, v);
  const out: UsedPermission[] = [];
  for (const f of files) {
    // A ResourceType's list function runs only through an informer, which is counted below.
    const { spans } = resourceTypes(f.text);
    for (const m of f.text.matchAll(/\.(\w+)\(/g)) {
      const endpoints = methods.get(m[1]!);
      if (!endpoints || spans.some(([a, b]) => m.index >= a && m.index < b)) continue;
      if (endpoints.length > 1) throw new Error(`${f.name}: ${m[1]} exists in several API classes; the scan cannot tell which`);
      const { httpMethod, path } = endpoints[0]!;
      const { apiGroup, resource, named } = parsePath(path);
      if (apiGroup === '{group}') {
        // A file that declares its one CUSTOM_RESOURCE is read by customObjectCalls below.
        if (/\bconst CUSTOM_RESOURCE = /.test(f.text)) continue;
        // src/kube/custom-resources.ts reaches whatever its callers name: customObjects(clients, Type) below.
        if (/\bexport function customObjects\b/.test(f.text)) continue;
        // A ResourceType's list factory runs through the informers counted at newInformer below.
        if (verbOf(httpMethod, named) === 'list' && /ResourceType<[^>]+>\['list'\]/.test(f.text)) continue;
        // CustomObjectsApi takes group and plural as arguments: the call site names what it reaches.
        for (const p of customResourcesAt(f.text, m.index, `${f.name}: ${m[1]}`)) {
          for (const verb of p.verbs ?? [verbOf(httpMethod, named)]) {
            out.push({ apiGroup: p.apiGroup, resource: resource.replace('{plural}', p.resource), verb, from: `${f.name}: ${m[1]}` });
          }
        }
        continue;
      }
      out.push({ apiGroup, resource, verb: verbOf(httpMethod, named), from: `${f.name}: ${m[1]}` });
    }
    out.push(...customObjectCalls(f));
    for (const m of f.text.matchAll(/\bnewInformer\(\s*[\w.]+\s*,\s*(\w+)\s*,/g)) {
      const path = types.get(m[1]!);
      if (!path) throw new Error(`${f.name}: newInformer on ${m[1]}, which is no ResourceType the scan found`);
      const { apiGroup, resource } = parsePath(path);
      for (const verb of ['list', 'watch']) out.push({ apiGroup, resource, verb, from: `${f.name}: informer on ${m[1]}` });
    }
    // `customObjects(clients, Type).create(…)`: a write on a custom resource (src/kube/custom-resources.ts), named at the call.
    for (const m of f.text.matchAll(/\bcustomObjects(?:<\w+>)?\(\s*[\w.]+\s*,\s*(\w+)\s*\)\.(\w+)\(/g)) {
      const path = types.get(m[1]!);
      const call = CUSTOM_OBJECT_CALLS[m[2]!];
      if (!path || !call) throw new Error(`${f.name}: customObjects on ${m[1]}.${m[2]}, which the scan cannot map to a permission`);
      const { apiGroup, resource } = parsePath(path);
      out.push({ apiGroup, resource: `${resource}${call.sub}`, verb: call.verb, from: `${f.name}: customObjects ${m[1]}.${m[2]}` });
    }
    // `newInformer(clients, kind.resource, …)`: an informer on each kind of src/controller/watched-kinds.ts.
    if (/\bnewInformer\(\s*[\w.]+\s*,\s*\w+\.resource\s*,/.test(f.text)) {
      const kinds = watchedKindsIn(files, types);
      if (kinds.length === 0) throw new Error(`${f.name}: newInformer on a watched kind, but the scan found no watched kind`);
      for (const { name, path } of kinds) {
        const { apiGroup, resource } = parsePath(path);
        for (const verb of ['list', 'watch']) out.push({ apiGroup, resource, verb, from: `${f.name}: informer on watched kind ${name}` });
      }
    }
  }
  return out;
}

/**
 * The custom resources a CustomObjectsApi call at `index` reaches, from the
 * `// rbac: [verbs] group/plural ...` comment right above it (verbs, comma-separated, when
 * the call stands for more than its own, e.g. the informers a discovery list leads to).
 */
function customResourcesAt(text: string, index: number, where: string): { apiGroup: string; resource: string; verbs?: string[] }[] {
  const before = text.slice(0, index).split('\n').slice(-4).join('\n');
  const m = /\/\/ rbac: ((?:[a-z]+(?:,[a-z]+)* )?)([^\n]+)\n[^\n]*$|\/\/ rbac: ((?:[a-z]+(?:,[a-z]+)* )?)([^\n]+)\n[^\n]*\n[^\n]*$/.exec(before);
  if (!m) throw new Error(`${where}: a custom-object call needs a \`// rbac: group/plural\` comment above it`);
  const verbs = (m[1] ?? m[3] ?? '').trim();
  return (m[2] ?? m[4] ?? '')
    .trim()
    .split(/\s+/)
    .map((gr) => {
      const slash = gr.indexOf('/');
      return { apiGroup: gr.slice(0, slash), resource: gr.slice(slash + 1), ...(verbs ? { verbs: verbs.split(',') } : {}) };
    });
}

// client-node's CustomObjectsApi takes the group and plural as arguments, so its calls
// say nothing of the resource by their name. A file that calls it declares the one
// custom resource it writes as `const CUSTOM_RESOURCE = { group: 'g', version: 'v', plural: 'p' }`.
const CUSTOM_VERBS: Record<string, string> = {
  getNamespacedCustomObject: 'get',
  createNamespacedCustomObject: 'create',
  replaceNamespacedCustomObject: 'update',
  patchNamespacedCustomObject: 'patch',
  deleteNamespacedCustomObject: 'delete',
  patchNamespacedCustomObjectStatus: 'patch',
  replaceNamespacedCustomObjectStatus: 'update',
};

function customObjectCalls(f: { name: string; text: string }): UsedPermission[] {
  const calls = [...f.text.matchAll(/\.(\w+NamespacedCustomObject(?:Status)?)\(/g)].filter((m) => m[1]! in CUSTOM_VERBS);
  if (calls.length === 0) return [];
  const decl = /const CUSTOM_RESOURCE = \{ group: '([^']+)', version: '[^']+', plural: '([^']+)' \}/.exec(f.text);
  // Without one, each call carries its own `// rbac:` comment (read by permissionsUsedBy).
  if (!decl) return [];
  return calls.map((m) => ({
    apiGroup: decl[1]!,
    resource: m[1]!.endsWith('Status') ? `${decl[2]!}/status` : decl[2]!,
    verb: CUSTOM_VERBS[m[1]!]!,
    from: `${f.name}: ${m[1]!}`,
  }));
}

/** The ResourceTypes named by `resource: Services` entries (WatchedKind definitions) in the files. */
function watchedKindsIn(files: readonly { text: string }[], types: ReadonlyMap<string, string>): { name: string; path: string }[] {
  return files.flatMap((f) => [...f.text.matchAll(/\bresource: (\w+)\b/g)].flatMap((m) => (types.has(m[1]!) ? [{ name: m[1]!, path: types.get(m[1]!)! }] : [])));
}
