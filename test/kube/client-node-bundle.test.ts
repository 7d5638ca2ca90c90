// src/kube/client-node.ts as `npm run build` ships it: bundled down to the values lbc uses.
// Checked in a child process (a fresh module graph, as `lbc run` has): the built module
// loads no file of the @kubernetes/client-node package, every export still works (a
// KubeConfig makes a CoreV1Api client, ObjectSerializer turns a watched object's
// timestamps into Dates), and the heap it costs is a fraction of the package's.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lbc-client-node-'));
  mkdirSync(join(dir, 'kube'));
  const js = ts.transpileModule(readFileSync(join(ROOT, 'src/kube/client-node.ts'), 'utf8'), {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true },
  }).outputText;
  writeFileSync(join(dir, 'kube/client-node.js'), js);
  // The same module as tsc emits it, a re-export of the package, for comparison.
  writeFileSync(join(dir, 'kube/client-node-unbundled.js'), js);
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const { bundleClientNode } = (await import(pathToFileURL(join(ROOT, 'src/kube/client-node.build.mjs')).href)) as { bundleClientNode: (file: string) => Promise<void> };
  await bundleClientNode(join(dir, 'kube/client-node.js'));
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Probe {
  clientNodeFiles: number;
  exports: string[];
  client: string;
  created: boolean;
  heapMb: number;
}

/** Imports `module` in a fresh node with a resolve hook counting client-node's files. */
function probe(module: string): Probe {
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.includes('/node_modules/@kubernetes/client-node/')) globalThis.port?.postMessage(r.url); return r; }
export function initialize(data) { globalThis.port = data.port; }`,
  );
  const script = `
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const seen = new Set();
port1.on('message', (u) => seen.add(u));
port1.unref();
register(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { port: port2 }, transferList: [port2] });
const m = await import(${JSON.stringify(module)});
const kc = new m.KubeConfig();
kc.loadFromString(JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
  users: [{ name: 'u', user: { token: 't' } }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }], 'current-context': 'x' }));
const core = kc.makeApiClient(m.CoreV1Api);
const svc = m.ObjectSerializer.deserialize({ metadata: { name: 'a', creationTimestamp: '2026-12-07T00:00:00Z' } }, 'V1Service', '');
await new Promise((r) => setTimeout(r, 100));
globalThis.gc();
console.log(JSON.stringify({ clientNodeFiles: seen.size, exports: Object.keys(m).sort(), client: core.constructor.name,
  created: svc.metadata.creationTimestamp instanceof Date, heapMb: process.memoryUsage().heapUsed / 1048576 }));`;
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '') as Probe;
}

describe("lbc's client-node module, as built", () => {
  it('loads none of the package\'s ~800 modules, yet KubeConfig, CoreV1Api and ObjectSerializer work', () => {
    const built = probe('./kube/client-node.js');
    expect(built.clientNodeFiles).toBe(0);
    expect(built.exports).toEqual(
      ['ApiextensionsV1Api', 'CoordinationV1Api', 'CoreV1Api', 'CustomObjectsApi', 'DiscoveryV1Api', 'KubeConfig', 'NetworkingV1Api', 'ObjectSerializer', 'PatchStrategy', 'V1MicroTime', 'Watch', 'setHeaderOptions'],
    );
    expect(built.client).toBe('ObjectCoreV1Api');
    expect(built.created).toBe(true);
  }, 60_000);

  it("imports none of the packages client-node needs only for exec, attach and cp (isomorphic-ws, tar-fs, stream-buffers), which lbc never calls", () => {
    const built = readFileSync(join(dir, 'kube/client-node.js'), 'utf8');
    const imported = new Set([...built.matchAll(/(?:from|import)\s*["']([^"']+)["']/g)].map((m) => m[1]));
    // The bundle still imports packages of its own, so an empty set cannot pass for a clean one.
    expect(imported).toContain('js-yaml');
    expect([...imported].filter((p) => /^(isomorphic-ws|ws|tar-fs|stream-buffers)$/.test(p ?? ''))).toEqual([]);
  });

  it('costs well under half the heap of the package it replaces', () => {
    const built = probe('./kube/client-node.js');
    const whole = probe('./kube/client-node-unbundled.js');
    // Through the package's root: every module of it, and the probe sees them all.
    expect(whole.clientNodeFiles).toBeGreaterThan(500);
    expect(whole.created).toBe(true);
    expect(built.heapMb).toBeLessThan(whole.heapMb / 2);
  }, 60_000);
});
