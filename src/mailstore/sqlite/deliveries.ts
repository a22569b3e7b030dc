// The delivery queue in SQLite (mailstore/types.ts Delivery): the secure
// pipeline records each recipient's copy before SMTP answers 250, and later
// turns it into a message of the recipient's mailbox. Delivering appends and
// marks the row in the caller's one transaction, so a crash leaves either both
// or neither. Functions run inside the caller's transaction.
import { AlreadyExistsError, NotAllowedError, NotFoundError } from '../../errors/index.ts';
import { checkDeliveryInput, deliveryError } from '../deliveries.ts';
import type { AccountId, Delivery, DeliveryInput, DeliveryState, MailboxId, Uid } from '../types.ts';
import type { Db } from './db.ts';
import { accountRow, mailboxRow } from './mailboxes.ts';

interface DeliveryRow {
  id: number;
  account_id: number;
  cid: string;
  seq: number;
  message_id: string | null;
  origin: string | null;
  state: string;
  error: string | null;
  mailbox_id: number | null;
  uid: number | null;
  created_at: number;
}

const toDelivery = (r: DeliveryRow): Delivery => ({
  id: r.id, accountId: r.account_id as AccountId, cid: r.cid, seq: r.seq, messageId: r.message_id, origin: r.origin,
  state: r.state as DeliveryState, error: r.error, mailboxId: r.mailbox_id as MailboxId | null, uid: r.uid as Uid | null,
  createdAt: new Date(r.created_at),
});

export const DELIVERY_SQL = {
  pending: "SELECT * FROM deliveries WHERE account_id = ? AND state = 'pending' ORDER BY id LIMIT ?",
  accounts: "SELECT DISTINCT account_id FROM deliveries WHERE state = 'pending' ORDER BY account_id",
  byCid: 'SELECT * FROM deliveries WHERE cid = ? ORDER BY id',
  byMessageId: 'SELECT * FROM deliveries WHERE message_id = ? ORDER BY id',
} as const;

export function enqueue(db: Db, items: ReadonlyArray<DeliveryInput>, now: number): Delivery[] {
  const out: Delivery[] = [];
  for (const item of items) {
    checkDeliveryInput(item);
    accountRow(db, item.accountId);
    if (item.origin != null) {
      // The same remote message may arrive twice (push, then ledger scan): queued once.
      const queued = db.get<DeliveryRow>('SELECT * FROM deliveries WHERE origin = ? AND seq = ? AND account_id = ?', item.origin, item.seq, item.accountId);
      if (queued) {
        out.push(toDelivery(queued));
        continue;
      }
    }
    const { lastInsertRowid } = db.run(
      'INSERT INTO deliveries (account_id, cid, seq, message_id, origin, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      item.accountId, item.cid, item.seq, item.messageId, item.origin ?? null, now,
    );
    out.push(deliveryRow(db, lastInsertRowid));
  }
  return out;
}

function deliveryRow(db: Db, id: number): Delivery {
  const row = db.get<DeliveryRow>('SELECT * FROM deliveries WHERE id = ?', id);
  if (!row) throw new NotFoundError('delivery');
  return toDelivery(row);
}

/** The pending delivery `id`, checked to belong with `mailboxId` when given. */
export function pendingRow(db: Db, id: number, mailboxId?: MailboxId): Delivery {
  const d = deliveryRow(db, id);
  if (d.state !== 'pending') throw new AlreadyExistsError('delivery', `delivery ${id} is already ${d.state}`);
  if (mailboxId !== undefined && mailboxRow(db, mailboxId).account_id !== d.accountId) {
    throw new NotAllowedError(`delivery ${id} is for another account than mailbox ${mailboxId}`);
  }
  return d;
}

export function markDelivered(db: Db, id: number, mailboxId: MailboxId, uid: Uid): void {
  db.run("UPDATE deliveries SET state = 'delivered', mailbox_id = ?, uid = ? WHERE id = ?", mailboxId, uid, id);
}

export function fail(db: Db, id: number, error: string): void {
  pendingRow(db, id);
  db.run("UPDATE deliveries SET state = 'failed', error = ? WHERE id = ?", deliveryError(error), id);
}

export function pending(db: Db, accountId: AccountId, limit: number): Delivery[] {
  return db.all<DeliveryRow>(DELIVERY_SQL.pending, accountId, limit).map(toDelivery);
}

export function find(db: Db, query: { messageId: string } | { cid: string }): Delivery[] {
  const rows = 'cid' in query ? db.all<DeliveryRow>(DELIVERY_SQL.byCid, query.cid) : db.all<DeliveryRow>(DELIVERY_SQL.byMessageId, query.messageId);
  return rows.map(toDelivery);
}

export function accountsWithPending(db: Db): AccountId[] {
  return db.all<{ account_id: number }>(DELIVERY_SQL.accounts).map((r) => r.account_id as AccountId);
}
