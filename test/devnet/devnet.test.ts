// `sealpost devnet --nodes 2 --json` end to end, as a child process on a real
// anvil: the JSON lines, a real IMAP STARTTLS login and SMTP STARTTLS
// submission per the printed settings, SIGINT stopping every process, and a
// second run on the same directory resuming the same accounts, ports, chain
// (contracts still there) and mail; a second devnet on a running directory
// is refused, and a node that dies is reported.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { startDevnet } from '../../src/devnet/devnet.ts';
import { hasCode } from '../../src/devnet/rpc.ts';
import { readDevnetState } from '../../src/devnet/state.ts';
import { devnetImap, isAlive, portOf, processesUsing, runDevnet, shutdown, type AccountLine, type DevnetRun } from './run.ts';

const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-devnet-')), 'net');
test.after.always(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

const SUBJECT = `devnet hello ${Date.now()}`;
let first: AccountLine[] = [];


/** Subjects in INBOX, polled until `want` shows up (delivery is asynchronous) or the time is up. */
async function inboxSubjects(account: AccountLine, want: string, timeoutMs: number): Promise<string[]> {
  const client = devnetImap(account);
  await client.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const subjects: string[] = [];
      const lock = await client.getMailboxLock('INBOX');
      try {
        await client.noop(); // new mail shows up as untagged EXISTS
        const mailbox = client.mailbox;
        if (mailbox !== false && mailbox.exists > 0) {
          for await (const m of client.fetch('1:*', { envelope: true })) subjects.push(m.envelope?.subject ?? '');
        }
      } finally {
        lock.release();
      }
      if (subjects.includes(want) || Date.now() > deadline) return subjects;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  } finally {
    await client.logout();
  }
}

async function stopWithSigint(t: ExecutionContext, run: DevnetRun, pids: number[]): Promise<void> {
  run.child.kill('SIGINT');
  const exit = await run.exited;
  t.is(exit.code, 0, run.stderr());
  // devnet waited for every child's exit itself: nothing may be left.
  for (const pid of pids) t.false(isAlive(pid), `pid ${pid} is gone`);
  t.false(fs.existsSync(path.join(dir, 'running.json')), 'running.json removed');
  t.deepEqual(processesUsing(dir), [], 'no process works on the directory any more');
}

test.serial('first run: one JSON line per account with working STARTTLS ports, then {"ready":true}; SIGINT stops everything', async (t) => {
  t.timeout(240_000);
  const started = Date.now();
  const run = runDevnet(['--nodes', '2', '--dir', dir, '--json']);
  t.teardown(() => shutdown(run, dir));
  first = await run.ready(200_000);
  t.log(`ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);

  t.is(first.length, 2);
  const readyIndex = run.lines.findIndex((l) => (l as { ready?: unknown }).ready === true);
  t.is(readyIndex, 2, 'the two account lines come first, then ready');
  t.deepEqual(run.lines[readyIndex], { ready: true });
  for (const [i, account] of first.entries()) {
    t.deepEqual(Object.keys(account), ['node', 'pid', 'address', 'password', 'smtp', 'imap', 'dataDir']);
    t.is(account.node, i + 1);
    t.true(Number.isSafeInteger(account.pid) && account.pid !== run.child.pid && isAlive(account.pid));
    t.is(account.address, `user@node${i + 1}.devnet.test`);
    t.regex(account.smtp, /^127\.0\.0\.1:\d+$/);
    t.regex(account.imap, /^127\.0\.0\.1:\d+$/);
    t.is(account.dataDir, path.join(dir, `node-${i + 1}`));
  }
  t.not(first[0]?.password, first[1]?.password);
  t.is(fs.statSync(path.join(dir, 'devnet.json')).mode & 0o777, 0o600, 'devnet.json holds passwords: 0600');
  const running = JSON.parse(fs.readFileSync(path.join(dir, 'running.json'), 'utf8')) as { anvil: number; nodes: Array<{ pid: number }> };
  t.true(isAlive(running.anvil));
  t.deepEqual(running.nodes.map((n) => n.pid), first.map((a) => a.pid));

  // Each node has its own account, own keys and a different ledger key from its registry key.
  const state = await readDevnetState(dir);
  t.truthy(state);
  for (const node of state?.nodes ?? []) {
    const config = JSON.parse(fs.readFileSync(path.join(dir, node.dataDir, 'config.json'), 'utf8')) as {
      ledger: { backend: string; evm: { contract: string; privateKeyFile: string } };
      network: { enabled: boolean; listen: string[]; registry: { backend: string; evm: { contract: string; privateKeyFile: string } } };
    };
    t.is(config.ledger.backend, 'evm');
    t.is(config.ledger.evm.contract, node.ledger.contract);
    t.true(config.network.enabled);
    t.deepEqual(config.network.listen, [`/ip4/127.0.0.1/tcp/${node.p2pPort}`]);
    t.is(config.network.registry.backend, 'evm');
    t.is(config.network.registry.evm.contract, state?.chain.registry ?? '');
    t.not(fs.readFileSync(config.ledger.evm.privateKeyFile, 'utf8'), fs.readFileSync(config.network.registry.evm.privateKeyFile, 'utf8'));
  }

  // A mail client logs in to every node over IMAP STARTTLS with the printed password...
  for (const account of first) {
    const client = devnetImap(account);
    await client.connect();
    t.true(client.authenticated !== false, `IMAP login on node ${account.node}`);
    await client.logout();
  }
  // ...and node 1's account sends itself a message over SMTP STARTTLS.
  const a = first[0] as AccountLine;
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: portOf(a.smtp),
    secure: false,
    requireTLS: true,
    tls: { ca: [fs.readFileSync(path.join(a.dataDir, 'tls', 'cert.pem'))], servername: 'localhost' },
    auth: { user: a.address, pass: a.password },
  });
  const info = await transport.sendMail({ from: a.address, to: a.address, subject: SUBJECT, text: 'over the devnet\r\n' });
  transport.close();
  t.deepEqual(info.accepted, [a.address]);
  t.true((await inboxSubjects(a, SUBJECT, 30_000)).includes(SUBJECT), 'delivered to its INBOX');

  await stopWithSigint(t, run, [...first.map((x) => x.pid), running.anvil]);
});

test.serial('second run on the same directory resumes the same network; a second devnet is refused; a dead node is reported', async (t) => {
  t.timeout(240_000);
  if (first.length === 0) return t.fail('needs the first run');
  const started = Date.now();
  const run = runDevnet(['--dir', dir, '--json']);
  t.teardown(() => shutdown(run, dir));
  const again = await run.ready(200_000);
  t.log(`resumed after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const withoutPid = (l: AccountLine): Omit<AccountLine, 'pid'> => ({ ...l, pid: undefined }) as Omit<AccountLine, 'pid'>;
  t.deepEqual(again.map(withoutPid), first.map(withoutPid), 'same addresses, passwords, ports and data dirs');
  for (const [i, account] of again.entries()) t.not(account.pid, first[i]?.pid, 'new processes');

  // The chain came back from its state file: the contracts are still there.
  const state = await readDevnetState(dir);
  if (state === null) return t.fail('no devnet.json');
  t.true(await hasCode(state.chain.rpcUrl, state.chain.registry), 'registry code');
  for (const node of state.nodes) t.true(await hasCode(state.chain.rpcUrl, node.ledger.contract), `node ${node.node}'s anchor code`);
  t.false(await hasCode(state.chain.rpcUrl, '0x000000000000000000000000000000000000dEaD'), 'an empty address has none (the check can fail)');

  // The message of the first run is still in the mailbox.
  t.true((await inboxSubjects(again[0] as AccountLine, SUBJECT, 5_000)).includes(SUBJECT));

  // A second devnet on the running directory is refused before touching anything.
  const error = await t.throwsAsync(startDevnet({ dir }));
  t.is((error as { code?: string }).code, 'DEVNET_RUNNING');

  // A node that dies is reported, and the others keep running.
  const victim = again[1] as AccountLine;
  process.kill(victim.pid, 'SIGKILL');
  const exited = await run.waitFor((l) => l['exited'] === true, 15_000);
  t.like(exited, { node: 2, pid: victim.pid, exited: true, signal: 'SIGKILL' });
  // stderr is another pipe: its line may arrive a little after the JSON one.
  const deadline = Date.now() + 5_000;
  while (!/node 2 \(pid \d+\) exited \(signal SIGKILL\)/.test(run.stderr()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  t.regex(run.stderr(), /node 2 \(pid \d+\) exited \(signal SIGKILL\)/);
  t.true(isAlive(again[0]?.pid ?? 0));

  const running = JSON.parse(fs.readFileSync(path.join(dir, 'running.json'), 'utf8')) as { anvil: number };
  await stopWithSigint(t, run, [...again.map((x) => x.pid), running.anvil]);
});

test.serial('a devnet killed hard leaves its children; the next run stops them and resumes; SIGINT while starting stops what started', async (t) => {
  t.timeout(240_000);
  if (first.length === 0) return t.fail('needs the first run');
  const killed = runDevnet(['--dir', dir, '--json']);
  t.teardown(() => shutdown(killed, dir));
  const orphans = (await killed.ready(200_000)).map((a) => a.pid);
  const running = JSON.parse(fs.readFileSync(path.join(dir, 'running.json'), 'utf8')) as { anvil: number };
  orphans.push(running.anvil);
  killed.child.kill('SIGKILL');
  await killed.exited;
  for (const pid of orphans) t.true(isAlive(pid), `pid ${pid} outlived its devnet`);
  t.deepEqual(processesUsing(dir).sort(), [...orphans].sort(), 'the check sees them (it can fail)');

  const next = runDevnet(['--dir', dir, '--json']);
  t.teardown(() => shutdown(next, dir));
  const accounts = await next.ready(200_000);
  t.regex(next.stderr(), /Stopped 3 processes left running by an earlier devnet/);
  for (const pid of orphans) t.false(isAlive(pid), `leftover ${pid} stopped`);
  t.deepEqual(accounts.map((a) => a.address), first.map((a) => a.address));
  const nextRunning = JSON.parse(fs.readFileSync(path.join(dir, 'running.json'), 'utf8')) as { anvil: number };
  await stopWithSigint(t, next, [...accounts.map((a) => a.pid), nextRunning.anvil]);

  // Ctrl-C before the network is ready: everything started so far is stopped, exit 1.
  const early = runDevnet(['--dir', dir, '--json']);
  t.teardown(() => shutdown(early, dir));
  const deadline = Date.now() + 60_000;
  while (!/Starting 2 nodes/.test(early.stderr()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const earlyRunning = JSON.parse(fs.readFileSync(path.join(dir, 'running.json'), 'utf8')) as { anvil: number };
  early.child.kill('SIGINT');
  const exit = await early.exited;
  t.is(exit.code, 1, early.stderr());
  t.regex(early.stderr(), /everything started was stopped/);
  t.false(isAlive(earlyRunning.anvil), 'anvil stopped');
  t.deepEqual(processesUsing(dir), [], 'nor any node that was starting');
  t.false(fs.existsSync(path.join(dir, 'running.json')));
  t.false(early.lines.some((l) => (l as { ready?: unknown }).ready === true));
});

test.serial('options that contradict the directory are refused with DEVNET_MISMATCH, nothing started', async (t) => {
  if (first.length === 0) return t.fail('needs the first run');
  const error = await t.throwsAsync(startDevnet({ dir, nodes: 3 }));
  t.is((error as { code?: string }).code, 'DEVNET_MISMATCH');
  const external = await t.throwsAsync(startDevnet({ dir, rpcUrl: 'http://127.0.0.1:1' }));
  t.is((external as { code?: string }).code, 'DEVNET_MISMATCH');
  t.false(fs.existsSync(path.join(dir, 'running.json')));
});
