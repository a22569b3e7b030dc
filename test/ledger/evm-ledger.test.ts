// The Ledger contract (test/ledger/contract.ts) run against the EVM backend:
// the SQLite record log on a real file, batch roots anchored by a
// SealpostAnchor contract on a real anvil. Each ledger gets its own contract
// and its own funded account, so that concurrent tests never race for a nonce.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import test from 'ava';
import { deployAnchorContract } from '../../src/ledger/evm/anchorer.ts';
import { openEvmLedger } from '../../src/ledger/evm/ledger.ts';
import type { Ledger } from '../../src/ledger/types.ts';
import { startAnvil, type Anvil } from '../helpers/anvil.ts';
import { ledgerContract, type LedgerTestOptions } from './contract.ts';

/** More than the contract suite opens ledgers (one account each). */
const ACCOUNTS = 40;

let anvil: Anvil;
let nextAccount = 0;

test.before(async () => {
  anvil = await startAnvil({ accounts: ACCOUNTS });
});

test.after.always(async () => {
  await anvil?.stop();
});

/** Rewrites a stored record's time, as someone with write access to the file could (dropping the guard first). */
function tamperRecord(file: string, seq: number): void {
  const db = new DatabaseSync(file);
  try {
    const row = db.prepare('SELECT record FROM records WHERE seq = ?').get(seq) as { record: string };
    const altered = row.record.replace(/"time":(\d+)/, (_, n: string) => `"time":${Number(n) + 1}`);
    db.exec('DROP TRIGGER IF EXISTS records_immutable');
    db.prepare('UPDATE records SET record = ? WHERE seq = ?').run(altered, seq);
  } finally {
    db.close();
  }
}

ledgerContract(test, 'evm (anvil)', async (options: LedgerTestOptions) => {
  const privateKey = anvil.privateKeys[nextAccount++];
  if (privateKey === undefined) throw new Error(`more than ${ACCOUNTS} ledgers: raise ACCOUNTS`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-evm-ledger-'));
  const file = path.join(dir, 'ledger.db');
  const { address } = await deployAnchorContract({ rpcUrl: anvil.rpcUrl, privateKey });
  const open = (o: LedgerTestOptions): Promise<Ledger> =>
    openEvmLedger({ path: file, rpcUrl: anvil.rpcUrl, contract: address, privateKey, pollingIntervalMs: 50, retryBaseMs: 100, ...o });
  let current = await open(options);
  return {
    ledger: current,
    async tamper(seq) {
      tamperRecord(file, seq);
    },
    async reopen(o) {
      current = await open(o);
      return current;
    },
    async cleanup() {
      await current.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});
