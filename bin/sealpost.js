#!/usr/bin/env node
// Launcher for `npx sealpost`: Sealpost is TypeScript run by Node 24's type
// stripping. On Node >= 24 it imports src/cli/main.ts directly; on an older
// node (Debian's system node is 20) it re-executes it with the Node 24 binary
// that the `node` devDependency puts in node_modules. Plain JS on purpose:
// this file must run on the old node too.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The compiled CLI (npm start and npm run build write dist/) starts faster and
// uses ~40 MB less memory than type-stripping the sources; it is used only
// while it is newer than every source file, so an edit is never run stale.
const built = path.join(root, 'dist', 'cli', 'main.js');
const newestSource = (dir) => readdirSync(dir, { withFileTypes: true }).reduce((newest, e) => {
  const file = path.join(dir, e.name);
  return Math.max(newest, e.isDirectory() ? newestSource(file) : statSync(file).mtimeMs);
}, 0);
const fresh = existsSync(built) && statSync(built).mtimeMs >= newestSource(path.join(root, 'src'));
const entry = fresh ? built : path.join(root, 'src', 'cli', 'main.ts');
const args = process.argv.slice(2);
const major = Number(process.versions.node.split('.')[0]);

// The long-running commands get a small young generation: V8 then frees the
// buffers of sent message bodies sooner (see bench/servers.ts for the figures).
const longRunning = args[0] === 'start' || args[0] === 'quickstart';

if (major >= 24 && !longRunning) {
  const { main } = await import(pathToFileURL(entry).href);
  process.exitCode = await main(args);
} else {
  const candidates = [process.execPath, path.join(root, 'node_modules', '.bin', 'node'), path.join(root, 'node_modules', 'node', 'bin', 'node')];
  const node24 = candidates.find((file) => existsSync(file) && (file !== process.execPath || major >= 24));
  if (node24 === undefined) {
    process.stderr.write(`sealpost: needs Node 24 or newer (this is ${process.version}); run "npm install" in ${root} first.\n`);
    process.exit(1);
  }
  const flags = longRunning ? ['--max-semi-space-size=2'] : [];
  const child = spawn(node24, [...flags, entry, ...args], { stdio: 'inherit' });
  // Pass stop signals on so that the gateway can close gracefully.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal === null ? 1 : 128);
  });
}
