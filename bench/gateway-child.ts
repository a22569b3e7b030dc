// Benchmark helper: runs the Sealpost gateway in this process on OS-picked
// loopback ports and prints one JSON line {"benchReady":true,"ports":{...}} on
// stdout, so bench/run.ts can measure it as a separate process (peak RSS).
// Used with `npm run bench -- --gateway-child`, or when the CLI is missing.
import { startGateway } from '../src/app.ts';

const dataDir = process.argv[2];
if (dataDir === undefined || dataDir === '') {
  process.stderr.write('usage: node bench/gateway-child.ts DATA_DIR\n');
  process.exit(2);
}
const gateway = await startGateway({ dataDir, ports: { smtp: 0, smtps: 0, imap: 0, imaps: 0 } });
process.stdout.write(`${JSON.stringify({ benchReady: true, ports: gateway.ports })}\n`);
const stop = (): void => {
  void gateway.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
