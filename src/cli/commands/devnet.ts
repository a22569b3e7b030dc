// `sealpost devnet`: a local Sealpost network in one command (anvil, the
// contracts, N nodes each in its own process with one account), printed as
// mail client settings for a person or as JSON lines for a script; Ctrl-C
// stops the nodes, then the chain. The work is in src/devnet/.
// devnet.ts is imported on use: it brings viem and solc, which other commands must not pay for.
import type { Devnet, DevnetAccount } from '../../devnet/devnet.ts';
import { describeExit, type ExitInfo } from '../../devnet/child.ts';
import { DevnetError } from '../../devnet/errors.ts';
import { MAX_NODES } from '../../devnet/limits.ts';
import { CommandFailed, parseCommand, portFlag, print, UsageError, type Command } from '../args.ts';

export const help = `Usage: sealpost devnet --dir DIR [--nodes N] [--json] [--base-port N]
                       [--rpc-url URL] [--prepare] [--anvil FILE]

A local Sealpost network in one command: starts anvil (its chain kept in
DIR), deploys the registry and one anchoring contract per node, starts N
nodes on 127.0.0.1, each its own "sealpost start" process with one account,
and prints every account's mail client settings. Ctrl-C stops the nodes,
then the chain. Run it again with the same --dir to resume the same network:
same accounts, passwords and ports, the same chain, the mail kept.

Options:
  --dir DIR        the devnet directory (created, mode 0700). Its devnet.json
                   holds the generated passwords (mode 0600).
  --nodes N        how many nodes, 1-${MAX_NODES} (default 5; fixed by the first run)
  --json           print one JSON object per account and line, then
                   {"ready":true}; progress goes to stderr
  --base-port N    first run only: anvil on port N, node i on N+10i (SMTP),
                   +1 (SMTPS), +2 (IMAP), +3 (IMAPS), +4 (libp2p).
                   Default: free ports, chosen once and kept.
  --rpc-url URL    use this chain instead of starting anvil; it must fund
                   anvil's default test accounts (an anvil elsewhere)
  --prepare        prepare DIR and deploy the contracts, then exit without
                   starting nodes (docker-compose.yml's setup step)
  --anvil FILE     the anvil binary (default: the @foundry-rs/anvil package,
                   then anvil on PATH)

In DIR: devnet.json, chain-state.json, anvil.log, running.json (while it
runs) and node-1 ... node-N, each a data directory with its log in node.log
(sealpost status --data-dir DIR/node-1 works on it).

Examples:
  sealpost devnet --nodes 5 --dir ~/sealpost-devnet
  sealpost devnet --dir ~/sealpost-devnet --json > settings.jsonl`;

const OPTIONS = {
  dir: { type: 'string' },
  nodes: { type: 'string' },
  json: { type: 'boolean' },
  'base-port': { type: 'string' },
  'rpc-url': { type: 'string' },
  prepare: { type: 'boolean' },
  anvil: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The JSON line for one account, exactly the fields the issue names, in that order. */
export function accountJson(account: DevnetAccount): string {
  return JSON.stringify({
    node: account.node,
    pid: account.pid,
    address: account.address,
    password: account.password,
    smtp: `${account.host}:${account.ports.smtp}`,
    imap: `${account.host}:${account.ports.imap}`,
    dataDir: account.dataDir,
  });
}

function accountText(account: DevnetAccount): string {
  const { host, ports } = account;
  return [
    `Node ${account.node}${account.pid === null ? '' : ` (pid ${account.pid})`}   data dir ${account.dataDir}`,
    `  User name  ${account.address}   (IMAP and SMTP)`,
    `  Password   ${account.password}`,
    `  IMAP       ${host} port ${ports.imap}  STARTTLS   (or port ${ports.imaps} with SSL/TLS)`,
    `  SMTP       ${host} port ${ports.smtp}  STARTTLS   (or port ${ports.smtps} with SSL/TLS)`,
    `  TLS certificate (self-signed) SHA-256 ${account.tlsFingerprint}`,
  ].join('\n');
}

function nodesFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > MAX_NODES) throw new UsageError('devnet', `--nodes must be a number from 1 to ${MAX_NODES}, got "${value}"`);
  return Number(value);
}

export const devnetCommand: Command = {
  name: 'devnet',
  summary: 'a local network: anvil, contracts and N nodes in one command',
  help,
  async run(argv) {
    const { values } = parseCommand('devnet', argv, OPTIONS);
    if (values.help === true) return print(help);
    if (values.dir === undefined || values.dir === '') throw new UsageError('devnet', '--dir is required');
    const nodes = nodesFlag(values.nodes);
    const basePort = portFlag('devnet', 'base-port', values['base-port']);
    if (basePort === 0) throw new UsageError('devnet', '--base-port must not be 0');
    const rpcUrl = values['rpc-url'];
    if (rpcUrl !== undefined && !/^https?:\/\/\S+$/.test(rpcUrl)) throw new UsageError('devnet', `--rpc-url must be an http(s) URL, got "${rpcUrl}"`);
    const json = values.json === true;
    // Progress is for a person: with --json it goes to stderr, so stdout stays JSON lines.
    const say = (line: string): void => {
      if (json) process.stderr.write(`${line}\n`);
      else print(line);
    };

    const controller = new AbortController();
    let devnet: Devnet | undefined;
    let signals = 0;
    let failed = false;
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const stop = (why: string, hurry = false): void => {
      if (devnet === undefined) {
        controller.abort();
        return;
      }
      say(why);
      void devnet.stop({ hurry }).then(() => {
        say('Stopped.');
        finish();
      });
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      stop(signals === 1 ? `${signal}: stopping the nodes, then the chain...` : `${signal} again: killing the nodes now.`, signals > 1);
    };
    const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((signal) => {
      const handler = (): void => onSignal(signal);
      process.on(signal, handler);
      return [signal, handler] as const;
    });
    const onNodeExit = (account: DevnetAccount, info: ExitInfo): void => {
      process.stderr.write(`sealpost devnet: node ${account.node} (pid ${account.pid ?? '?'}) exited (${describeExit(info)}); its log: ${account.logFile}\n`);
      if (json) print(JSON.stringify({ node: account.node, pid: account.pid, exited: true, code: info.code, signal: info.signal, log: account.logFile }));
    };
    const onChainExit = (info: ExitInfo): void => {
      failed = true;
      process.stderr.write(`sealpost devnet: anvil exited (${describeExit(info)}); stopping the nodes. Its log: ${devnet?.dir ?? values.dir}/anvil.log\n`);
      stop('The chain is gone: stopping.');
    };

    try {
      try {
        const { startDevnet } = await import('../../devnet/devnet.ts');
        devnet = await startDevnet({
          dir: values.dir,
          ...(nodes !== undefined ? { nodes } : {}),
          ...(basePort !== undefined ? { basePort } : {}),
          ...(rpcUrl !== undefined ? { rpcUrl } : {}),
          ...(values.anvil !== undefined ? { anvil: values.anvil } : {}),
          prepareOnly: values.prepare === true,
          signal: controller.signal,
          progress: say,
          onNodeExit,
          onChainExit,
        });
      } catch (error) {
        if (error instanceof DevnetError && error.code === 'DEVNET_ABORTED') {
          process.stderr.write(`sealpost devnet: ${error.message}; everything started was stopped.\n`);
          throw new CommandFailed();
        }
        throw error;
      }
      if (values.prepare === true) {
        for (const account of devnet.accounts) print(json ? accountJson(account) : `\n${accountText(account)}`);
        if (json) print(JSON.stringify({ prepared: true }));
        else if (devnet.external) print(`\nPrepared ${devnet.dir}; start each node with: sealpost start --data-dir ${devnet.dir}/node-N`);
        else print(`\nPrepared ${devnet.dir}; "sealpost devnet --dir ${devnet.dir}" starts its chain and nodes.`);
        return;
      }
      if (controller.signal.aborted) {
        stop('Stopping...');
      } else if (json) {
        for (const account of devnet.accounts) print(accountJson(account));
        print(JSON.stringify({ ready: true }));
      } else {
        const n = devnet.accounts.length;
        print();
        print(`Sealpost devnet: ${n} node${n === 1 ? '' : 's'}, chain ${devnet.chainId} at ${devnet.rpcUrl}${devnet.anvilPid === null ? '' : ` (anvil pid ${devnet.anvilPid})`}, registry ${devnet.registry}`);
        for (const account of devnet.accounts) print(`\n${accountText(account)}`);
        print();
        print(`Ready. Ctrl-C stops the nodes and the chain; "sealpost devnet --dir ${devnet.dir}" resumes this network.`);
      }
      await finished;
      if (failed) throw new CommandFailed();
    } finally {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    }
  },
};
