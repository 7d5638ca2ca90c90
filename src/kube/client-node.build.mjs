// `npm run build`'s last step (and the controller bench's): replaces the compiled
// client-node.js, a re-export of @kubernetes/client-node, with one module holding only
// what it re-exports. esbuild follows the imports from those exports, drops every API
// group and model wrapper nothing reaches (tree shaking) and strips the rest of
// whitespace, so the process keeps ~1 MB of client-node source in its heap instead of
// ~20 MB; client-node's own dependencies stay packages, imported as usual.
// Names are kept (keepNames): client-node's errors and lbc's logs name classes.
import { build } from 'esbuild';
import { resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const SELF = Symbol('resolving for only-client-node-inline');
const CLIENT_NODE = /[\\/]@kubernetes[\\/]client-node[\\/]/;

/** Bundles the compiled module at `file` (dist/kube/client-node.js) in place. */
export async function bundleClientNode(file) {
  await build({
    entryPoints: [file],
    outfile: file,
    allowOverwrite: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    keepNames: true,
    logLevel: 'warning',
    plugins: [
      {
        name: 'only-client-node-inline',
        setup(b) {
          // Everything but client-node itself stays an import of the installed package.
          b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@kubernetes/client-node') ? undefined : { path: args.path, external: true }));
          // client-node's modules do nothing when imported but define classes and tables, yet its
          // package does not say so ("sideEffects": false): told, esbuild drops the modules whose
          // exports lbc never reaches, and with them their imports of packages lbc never calls
          // (isomorphic-ws for exec and attach, tar-fs and stream-buffers for cp), which
          // otherwise load with every start.
          b.onResolve({ filter: /.*/ }, async (args) => {
            if (args.pluginData === SELF) return undefined;
            const inClientNode = args.path.startsWith('@kubernetes/client-node') || (args.path.startsWith('.') && CLIENT_NODE.test(args.importer));
            if (!inClientNode) return undefined;
            const r = await b.resolve(args.path, { importer: args.importer, kind: args.kind, resolveDir: args.resolveDir, pluginData: SELF });
            return r.errors.length ? { errors: r.errors } : { path: r.path, sideEffects: false };
          });
        },
      },
    ],
    // client-node's CommonJS dependencies (js-yaml, ...) are external, but esbuild's ESM
    // output of a `require` inside the bundle needs one.
    banner: { js: "import { createRequire as __lbcRequire } from 'node:module'; const require = __lbcRequire(import.meta.url);" },
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await bundleClientNode(resolve(process.argv[2] ?? 'dist/kube/client-node.js'));
}
