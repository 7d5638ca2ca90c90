// A speaker inside a node namespace: forwards its own 127.0.0.1:<port> to the API's
// Unix socket (see serveApiSocket), then runs `lbc speaker` exactly as the CLI does.
import { connect, createServer } from 'node:net';
import { runSpeaker } from '../../../../src/cli/speaker.js';

// The test holds our stdin; when it goes away (even killed), so do we, or we would keep
// running inside a namespace nobody removes.
process.stdin.on('end', () => process.exit(1));
process.stdin.resume();

const [node = '', config = '', kubeconfig = '', apiSocket = '', apiPort = '0'] = process.argv.slice(2);

await new Promise<void>((resolve, reject) => {
  const server = createServer((c) => {
    const upstream = connect(apiSocket);
    c.pipe(upstream).pipe(c);
    c.on('error', () => upstream.destroy());
    upstream.on('error', () => c.destroy());
  });
  server.once('error', reject);
  server.listen(Number(apiPort), '127.0.0.1', () => resolve());
  server.unref();
});

await runSpeaker({ node, config, kubeconfig });
// runSpeaker logs a failure and sets process.exitCode, as `lbc speaker` exits with it.
process.exit();
