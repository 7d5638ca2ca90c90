// `npm run build`'s last step (and the controller bench's): replaces the compiled
// client-node.js, a re-export of @kubernetes/client-node, with one module holding only
// what it re-exports. esbuild follows the imports from those exports, drops every API
// group and model wrapper nothing reaches (tree shaking) and strips the rest of
// whitespace, so the process keeps ~1 MB of client-node source in its heap instead of
// ~20 MB; client-node's own dependencies stay packages, imported as usual.
// Names are kept (keepNames): client-node's errors and lbc's logs name classes.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const SELF = Symbol('resolving for only-client-node-inline');
const CLIENT_NODE = /[\\/]@kubernetes[\\/]client-node[\\/]/;
const NODE_FETCH = /[\\/]node_modules[\\/]node-fetch[\\/]/;

// client-node's KubeConfig imports the packages of every kind of credential and proxy at
// its top, so each start loaded OpenID Connect (openid-client, oauth4webapi, jose), the
// proxy agents (socks-proxy-agent with socks and ip-address, hpagent), jsonpath-plus and
// rfc4648, though a kubeconfig with a token or a client certificate (the in-cluster one)
// calls none of them. Each use below is in the one place client-node calls it, so the
// package loads there, the first time a kubeconfig needs it: openid-client (ES modules
// only) inside OpenIDConnectAuth's async refresh, the others (all with a CommonJS build)
// through the bundle's require, as KubeConfig.createAgent and the gcp/azure token
// commands are synchronous. Every edit must match as often as written here, so a
// client-node whose source moved fails the build instead of loading them again.
const LAZY_EDITS = {
  'dist/config.js': [
    ["import { SocksProxyAgent } from 'socks-proxy-agent';", '', 1],
    ["import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';", '', 1],
    ['new SocksProxyAgent(', "new (require('socks-proxy-agent').SocksProxyAgent)(", 1],
    ['new HttpsProxyAgent(', "new (require('hpagent').HttpsProxyAgent)(", 1],
    ['new HttpProxyAgent(', "new (require('hpagent').HttpProxyAgent)(", 1],
  ],
  'dist/oidc_auth.js': [
    ["import * as oidc from 'openid-client';", '', 1],
    ["import { base64url } from 'rfc4648';", '', 1],
    ['await oidc.', "await (await import('openid-client')).", 2],
    ['base64url.parse(', "require('rfc4648').base64url.parse(", 2],
  ],
  'dist/gcp_auth.js': [
    ["import * as jsonpath from 'jsonpath-plus';", '', 1],
    ['jsonpath.JSONPath(', "require('jsonpath-plus').JSONPath(", 2],
  ],
  'dist/azure_auth.js': [
    ["import * as jsonpath from 'jsonpath-plus';", '', 1],
    ['jsonpath.JSONPath(', "require('jsonpath-plus').JSONPath(", 2],
  ],
};
const LAZY_FILES = /[\\/]@kubernetes[\\/]client-node[\\/](dist[\\/](?:config|oidc_auth|gcp_auth|azure_auth)\.js)$/;

/** client-node's `source` of `file` (a LAZY_EDITS key) with the package imports made lazy. */
export function lazyAuthPackages(file, source) {
  let out = source;
  for (const [from, to, times] of LAZY_EDITS[file]) {
    const parts = out.split(from);
    if (parts.length - 1 !== times) throw new Error(`client-node ${file}: expected ${times} × ${JSON.stringify(from)}, found ${parts.length - 1}; update LAZY_EDITS in client-node.build.mjs`);
    out = parts.join(to);
  }
  return out;
}

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
          // node-fetch 2 takes its URL from whatwg-url only where Node's url module has none
          // (`Url.URL || whatwgUrl.URL`), yet requires whatwg-url, and with it tr46's Unicode
          // table (~3 MB of heap), at its top. Bundled, so its whatwg-url can be Node's own URL;
          // client-node is node-fetch's only user in lbc's process, so one copy still serves all.
          b.onResolve({ filter: /^whatwg-url$/ }, (args) => (NODE_FETCH.test(args.importer) ? { path: 'whatwg-url', namespace: 'node-url' } : undefined));
          b.onLoad({ filter: /.*/, namespace: 'node-url' }, () => ({ contents: "export { URL } from 'node:url';", loader: 'js' }));
          // Everything else but client-node itself stays an import of the installed package.
          b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@kubernetes/client-node') || args.path === 'node-fetch' ? undefined : { path: args.path, external: true }));
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
          b.onLoad({ filter: LAZY_FILES }, async (args) => {
            const file = LAZY_FILES.exec(args.path)[1].replaceAll('\\', '/');
            return { contents: lazyAuthPackages(file, await readFile(args.path, 'utf8')), loader: 'js' };
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
