// The workload behind the service address on one node: answers every request with the
// node's name, so the client sees which node the address led it to.
import { createServer } from 'node:http';

// The test holds our stdin; when it goes away (even killed), so do we, or we would keep
// running inside a namespace nobody removes.
process.stdin.on('end', () => process.exit(1));
process.stdin.resume();

const [node = '?'] = process.argv.slice(2);
createServer((_req, res) => {
  res.setHeader('connection', 'close');
  res.end(node);
}).listen(80, '::', () => console.log(`http ${node} listening`));
