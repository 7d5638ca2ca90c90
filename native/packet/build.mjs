// Builds the packet-socket addon with node-gyp against the headers of the node that
// runs this script, offline: node-gyp would otherwise try to download headers. Run by
// `npm run build:native` (npm puts its bundled node-gyp on PATH for scripts); needs
// python3, make and a C compiler.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const candidates = [process.env.npm_config_nodedir, dirname(dirname(process.execPath))].filter(Boolean);
const nodedir = candidates.find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')));
if (!nodedir) {
  process.stderr.write(
    `build:native: no Node headers under ${candidates.join(' or ')} (include/node/node_api.h). ` +
      'Install the headers for this node (nodesource and nodejs.org builds ship them), or set npm_config_nodedir.\n',
  );
  process.exit(1);
}

// npm's bundled node-gyp, wherever npm lives next to this node; else whatever is on PATH.
const bundled = [
  join(dirname(dirname(process.execPath)), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].find((p) => existsSync(p));
const [cmd, args] = bundled ? [process.execPath, [bundled]] : ['node-gyp', []];
const r = spawnSync(cmd, [...args, 'rebuild', `--directory=${here}`, `--nodedir=${nodedir}`], { stdio: 'inherit' });
if (r.error) {
  process.stderr.write(`build:native: cannot run node-gyp: ${r.error.message}\n`);
  process.exit(1);
}
process.exit(r.status ?? 1);
