// The Dockerfile's structure (no Docker engine runs on the test machines, so the image is
// not built here): a build stage with the dev dependencies, a production-only
// dependency stage, and a runtime stage that copies only what runs, as a numeric
// non-root user, with the entry point the manifests' args are written for.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTROLLER_MALLOC_ARENA_MAX, IMAGE_ENTRYPOINT, NONROOT_UID } from '../../src/install/workloads.js';
import { addonPath } from '../../src/providers/metal/speaker/packet-socket.js';

const ROOT = join(import.meta.dirname, '../..');

interface Stage {
  from: string;
  name?: string;
  lines: string[];
}

/** Instructions by stage, continuation lines joined, comments dropped. */
function stages(text: string): Stage[] {
  const out: Stage[] = [];
  const joined = text.replace(/\\\n\s*/g, ' ');
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) out.push({ from: from[1]!, ...(from[2] ? { name: from[2] } : {}), lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const all = stages(dockerfile);
const runtime = all.at(-1)!;
const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

describe('Dockerfile', () => {
  it('every stage is on Node 20, as package.json engines and CI are', () => {
    expect(all.length).toBeGreaterThanOrEqual(3);
    for (const s of all) expect(s.from).toMatch(/^node:20(\.|-|$)/);
  });

  it('the build stage installs everything (dev dependencies too) and builds dist/ and the speaker addon', () => {
    const build = all.find((s) => s.lines.some((l) => /npm run build\b/.test(l)))!;
    expect(build).toBeDefined();
    expect(build.lines.some((l) => /^RUN npm ci(?!.*--omit=dev)/.test(l))).toBe(true);
    expect(build.lines.join('\n')).toMatch(/npm run build:native/);
  });

  it('the runtime stage: production dependencies only, dist/, the addon where the speaker looks, nothing else', () => {
    const copies = runtime.lines.filter((l) => l.startsWith('COPY'));
    const from = (c: string) => /--from=(\S+)/.exec(c)?.[1];
    expect(runtime.lines.some((l) => /npm (ci|install)/.test(l)), 'no install in the runtime stage').toBe(false);
    const modules = copies.find((c) => /\/node_modules\s/.test(c))!;
    const deps = all.find((s) => s.name === from(modules))!;
    expect(deps.lines.some((l) => /^RUN npm ci .*--omit=dev/.test(l)), `stage ${from(modules)} installs production dependencies only`).toBe(true);
    const addon = relative(join(ROOT, 'dist', 'providers/metal/speaker'), addonPath()).replace(/^(\.\.\/)+/, '');
    expect(copies.map((c) => c.split(/\s+/).at(-1)).sort()).toEqual(['./', './dist', './node_modules', `./${addon}`].sort());
    expect(copies.find((c) => c.endsWith(' ./'))).toBe('COPY package.json ./');
  });

  it('runs as a numeric non-root user (the uid the Deployment asks for) with node dist/cli/main.js as entry point', () => {
    expect(runtime.lines).toContain(`USER ${NONROOT_UID}:${NONROOT_UID}`);
    expect(runtime.lines.filter((l) => l.startsWith('USER'))).toHaveLength(1);
    const entry = runtime.lines.find((l) => l.startsWith('ENTRYPOINT'))!;
    expect(JSON.parse(entry.slice('ENTRYPOINT'.length))).toEqual(['node', 'dist/cli/main.js']);
    // The controller's command repeats it with a heap flag added.
    expect(IMAGE_ENTRYPOINT).toEqual(JSON.parse(entry.slice('ENTRYPOINT'.length)));
    expect(runtime.lines.some((l) => l.startsWith('CMD'))).toBe(false);
  });

  it("the runtime environment caps glibc's malloc arenas at what the cold-start bench measured (the bench's controller runs with the same)", () => {
    expect(runtime.lines.filter((l) => l.startsWith('ENV MALLOC_ARENA_MAX'))).toEqual([`ENV MALLOC_ARENA_MAX=${CONTROLLER_MALLOC_ARENA_MAX}`]);
  });

  it('what the build copies exists and is not excluded; what was built or installed here is', () => {
    const sources = all.flatMap((s) => s.lines.filter((l) => l.startsWith('COPY') && !l.includes('--from')).flatMap((l) => l.split(/\s+/).slice(1, -1)));
    for (const src of sources) {
      expect(existsSync(join(ROOT, src)), src).toBe(true);
      expect(ignored.some((i) => src === i || src.startsWith(`${i}/`)), `${src} is in .dockerignore`).toBe(false);
    }
    for (const local of ['node_modules', 'dist', 'native/packet/build', '.git']) expect(ignored).toContain(local);
  });
});
