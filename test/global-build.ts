// Some tests check lbc as `npm run build` ships it (dist/: the bundled client-node, the
// packages the built `lbc run` loads). `npm ci && npm test` on a fresh clone has no dist/,
// and a dist/ older than the sources would test yesterday's code, so the build runs first
// whenever dist/ is missing or any source is newer than it.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BUILT = join(ROOT, 'dist/cli/main.js');
const INPUTS = ['src', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

export function setup(): void {
  const stale = !existsSync(BUILT) || INPUTS.some((p) => existsSync(join(ROOT, p)) && newestMtime(join(ROOT, p)) > statSync(BUILT).mtimeMs);
  if (!stale) return;
  process.stdout.write('dist/ is missing or older than the sources: npm run build\n');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
}
