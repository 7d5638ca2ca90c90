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
  // LBC_WIRE_API_DELAY_MS: what the API server sends reaches this speaker that much later
  // (a loaded API server's watch), in order.
  const delayMs = Number(process.env.LBC_WIRE_API_DELAY_MS ?? 0);
  const server = createServer((c) => {
    const upstream = connect(apiSocket);
    c.pipe(upstream);
    if (delayMs > 0) upstream.on('data', (chunk: Buffer) => setTimeout(() => c.write(chunk), delayMs));
    else upstream.pipe(c);
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
