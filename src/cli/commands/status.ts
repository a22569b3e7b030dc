// `sealpost status`: the data directory, its accounts with per-folder message
// counts, and whether a gateway is running on it.
import fs from 'node:fs/promises';
import { openNode } from '../../app.ts';
import { dataPaths, type DataPaths } from '../../config/paths.ts';
import { connectControl } from '../../control/client.ts';
import { openSnapshotState } from '../../snapshot/state.ts';
import { readTlsMaterial } from '../../crypto/tls.ts';
import { openRecordLog } from '../../ledger/log.ts';
import { portsLine } from '../output.ts';
import { readRunningGateway } from '../state.ts';
import { DATA_DIR_OPTION, dataDirFrom, parseCommand, quietLogger, print, type Command } from '../args.ts';

export const help = `Usage: sealpost status [--data-dir DIR]

Shows the data directory, the accounts with the number of messages in each
folder, the TLS certificate fingerprint, and whether a gateway is running.

Example:
  sealpost status --data-dir ~/sealpost`;

/** One line on the ledger: backend, records, batches and the newest anchor. */
function ledgerLine(file: string, backend: string, contract: string): string {
  const where = backend === 'evm' ? `EVM contract ${contract || '(not deployed)'}` : 'local checkpoints signed by the node key';
  let log;
  try {
    log = openRecordLog({ path: file });
  } catch (error) {
    return `Ledger: ${where}; ${file} cannot be read (${(error as Error).message})`;
  }
  try {
    const s = log.summary();
    const last = s.lastAnchoredAt === null ? 'none yet' : new Date(s.lastAnchoredAt).toISOString();
    return `Ledger: ${where}; ${s.records} record${s.records === 1 ? '' : 's'} in ${s.batches} batch${s.batches === 1 ? '' : 'es'} (${s.batches - s.anchoredBatches} not anchored yet); last anchor ${last}`;
  } finally {
    log.close();
  }
}

interface HistoryStatus {
  snapshot: { seq: number; takenAt: number; messages: number } | null;
  copies: { replicas: Array<{ node: string; held: number; pointer: { seq: number } | null }>; unreachable: Array<{ node: string; code: string }> } | null;
}

/** The account's latest snapshot and, in a network, how many replicas hold its data (asked of the running gateway). */
async function historyLine(paths: DataPaths, address: string, network: boolean): Promise<string> {
  let status: HistoryStatus | null = null;
  const client = await connectControl(paths.controlSocket).catch(() => null);
  if (client !== null) {
    try {
      status = await client.call<HistoryStatus>('/v1/history/status', { account: address });
    } catch {
      status = null;
    } finally {
      client.close();
    }
  }
  if (status === null) {
    const state = openSnapshotState(paths.snapshotsDb);
    try {
      status = { snapshot: state.latest(address), copies: null };
    } finally {
      state.close();
    }
  }
  const snap = status.snapshot === null
    ? 'no mailbox snapshot yet (taken while the account is logged in)'
    : `snapshot ${status.snapshot.seq} of ${new Date(status.snapshot.takenAt).toISOString()} (${status.snapshot.messages} messages)`;
  if (!network) return `${snap}; copies: this machine only (not in a network: back up the data directory)`;
  if (status.copies === null) return `${snap}; copies: unknown while the gateway is not running`;
  const full = status.copies.replicas.filter((r) => r.pointer !== null && r.pointer.seq === status.snapshot?.seq);
  const detail = status.copies.replicas.map((r) => `${r.node.slice(0, 8)}… ${r.held} objects${r.pointer === null ? ', no snapshot' : `, snapshot ${r.pointer.seq}`}`);
  for (const u of status.copies.unreachable) detail.push(`${u.node.slice(0, 8)}… unreachable (${u.code})`);
  return `${snap}; copies: this node + ${full.length} replica${full.length === 1 ? '' : 's'} with the latest snapshot [${detail.join('; ')}]`;
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'show accounts, folders and whether the gateway runs',
  help,
  async run(argv) {
    const { values } = parseCommand('status', argv, DATA_DIR_OPTION);
    if (values.help === true) return print(help);
    const dataDir = dataDirFrom(values);
    const paths = dataPaths(dataDir);
    print(`Data directory: ${dataDir}`);
    try {
      await fs.access(paths.config);
    } catch {
      print('Not initialised. Create it with: sealpost init --address ADDR' + (values['data-dir'] !== undefined ? ` --data-dir ${dataDir}` : ''));
      return;
    }
    const running = await readRunningGateway(paths.gatewayState);
    print(running === null ? 'Gateway: not running' : `Gateway: running (pid ${running.pid}) since ${running.startedAt}\n  ${portsLine(running.listen, running.ports)}`);
    try {
      print(`TLS certificate SHA-256: ${(await readTlsMaterial(paths.tlsDir)).fingerprint256}`);
    } catch {
      print('TLS certificate: missing (run sealpost init again to create it)');
    }
    const node = await openNode({ dataDir, logger: quietLogger() });
    try {
      const accounts = await node.accounts.listAccounts();
      print(`Accounts: ${accounts.length}`);
      for (const account of accounts) {
        print(`  ${account.address}${account.name === '' ? '' : ` "${account.name}"`}`);
        const mailboxes = await node.store.listMailboxes(account.id);
        const counts: string[] = [];
        for (const mailbox of mailboxes) {
          const st = await node.store.status(mailbox.id);
          counts.push(`${mailbox.name} ${st.messages}${st.unseen > 0 ? ` (${st.unseen} unseen)` : ''}`);
        }
        print(`    ${counts.join(', ')}`);
        const waiting = (await node.store.pendingDeliveries(account.id, 10_000)).length;
        if (waiting > 0) print(`    ${waiting} message${waiting === 1 ? '' : 's'} waiting to be decrypted into INBOX (at this account's next login)`);
        print(`    ${await historyLine(node.paths, account.address, node.config.network.enabled)}`);
      }
      print(ledgerLine(node.paths.ledgerDb, node.config.ledger.backend, node.config.ledger.evm.contract));
    } finally {
      await node.close();
    }
  },
};
