/**
 * Baseline broker: aedes 1.x with no hooks (anyone may connect and publish) relaying to nobody.
 * Run as a child process: prints {"port":N} when listening; answers an IPC "count" with the
 * number of client publishes it has handled.
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const broker = await Aedes.createBroker();
let count = 0;
broker.on('publish', (_packet, client) => {
  if (client) count++;
});
const server = createServer(broker.handle);
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 })}\n`);
});
process.on('message', (m) => {
  if (m === 'count') process.send?.({ count });
});
process.on('SIGTERM', () => {
  server.close();
  broker.close(() => process.exit(0));
});
