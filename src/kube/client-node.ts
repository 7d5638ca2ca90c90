// The values lbc takes from @kubernetes/client-node, all through this one module (types
// may come from the package directly; the lint rule no-restricted-imports holds it).
// client-node's root, and its KubeConfig module too, import every generated API group and
// three wrapper layers around each: ~800 modules and ~20 MB of source text that V8 keeps
// in the heap for lazy compilation, ~70 MB of RSS before lbc has done anything. lbc uses
// six API groups. `npm run build` replaces this module's output with a tree-shaken,
// minified bundle of exactly these exports (client-node.build.mjs), so that `lbc run`
// carries only what it calls; under tsx and vitest it is a plain re-export of the package.
export {
  // Only the demo's CRD install (cli/demo/crds.ts) uses it; one API group more in the bundle.
  ApiextensionsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  KubeConfig,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
  Watch,
} from '@kubernetes/client-node';
// client-node 1.4 exports no ObjectSerializer from its package root (checked on 1.4.0);
// src/kube/resources.ts needs it where informers list through client-node (a cluster
// behind a proxy), so that objects arriving on a watch (plain JSON) get the same shape,
// Date fields included, as objects from that typed list. The one place lbc
// reaches into client-node's internals (the lint rule client-node-internals holds it here).
export { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
