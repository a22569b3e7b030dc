// `sealpost import`: brings an existing mailbox into a Sealpost account, from
// an IMAP account, an mbox file, a Maildir or .eml files. Every message is
// sealed, stored and anchored like any other (pipeline/import.ts), keeps its
// flags and date, and is imported once: running the same command again after
// an interruption finishes the job without duplicates. The work is done by
// the running gateway when there is one (import-node.ts).
import path from 'node:path';
import { openImportSession, type ImportSession } from '../../import-node.ts';
import type { MigrateError } from '../../migrate/errors.ts';
import { runImport, type FolderSource, type ImportProgress, type ImportSummary } from '../../migrate/run.ts';
import type { SourceMessage } from '../../migrate/types.ts';
import type { FolderTarget } from '../../pipeline/import.ts';
import { DATA_DIR_OPTION, dataDirFrom, parseCommand, passwordFlag, print, quietLogger, UsageError, type Command } from '../args.ts';
import { createProgressLine, formatDuration } from '../progress.ts';
import { imapSources } from './import-imap.ts';

export const help = `Usage:
  sealpost import imap    --account ADDR --host HOST [--port N] [--tls | --starttls | --plain]
                          --user USER [--password-file FILE] [--ca FILE] [--folders GLOB,...] [--follow]
  sealpost import mbox    --account ADDR [--folder NAME] FILE...
  sealpost import maildir --account ADDR [--folder NAME] DIR
  sealpost import eml     --account ADDR [--folder NAME] FILE...

Copies every message, with its flags and date, into the Sealpost account
ADDR; each is encrypted to the account's key, stored and anchored like any
other message. Run the same command again after an interruption (Ctrl-C, a
dropped connection, a crash): it finishes the job, and nothing is imported
twice. When the gateway is running it does the import, and connected mail
clients see the messages arrive.

The account's password (the one your mail client uses) unlocks its key:
  --account-password-file FILE, or the environment variable SEALPOST_PASSWORD.

imap:   every folder, Sent/Drafts/Trash/Junk/Archive mapped to Sealpost's
        by their special use; --folders limits it to names matching globs
        (* any characters, % within one level). The old account's password
        comes from --password-file FILE or SEALPOST_IMPORT_PASSWORD.
        Security: --tls (port 993, default), --starttls (143), --plain (only
        to this machine). --ca FILE trusts a self-signed server certificate.
        --follow: new mail at the old account keeps coming in after the
        import. With the gateway running, the gateway does it from then on
        (after restarts too, while the account is logged in; the old
        password is kept encrypted to the account's key); without one, this
        command keeps running and does it until Ctrl-C.
mbox, eml: into --folder (default INBOX).
maildir: the Maildir's folders as they are (its root is INBOX); with
        --folder NAME its root goes into NAME and subfolders below it.

Examples:
  SEALPOST_PASSWORD=... SEALPOST_IMPORT_PASSWORD=... sealpost import imap \\
      --account alice@example.org --host imap.example.net --user alice
  sealpost import mbox --account alice@example.org --folder Archive/2019 ~/old.mbox`;

const OPTIONS = {
  ...DATA_DIR_OPTION,
  account: { type: 'string' },
  'account-password-file': { type: 'string' },
  folder: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  tls: { type: 'boolean' },
  starttls: { type: 'boolean' },
  plain: { type: 'boolean' },
  user: { type: 'string' },
  'password-file': { type: 'string' },
  ca: { type: 'string' },
  folders: { type: 'string' },
  follow: { type: 'boolean' },
  'poll-seconds': { type: 'string' },
} as const;

type Values = ReturnType<typeof parseCommand<typeof OPTIONS>>['values'];

const KINDS = ['imap', 'mbox', 'maildir', 'eml'] as const;
type Kind = (typeof KINDS)[number];

/** Flags each kind takes besides the common ones. */
const ONLY: Record<Kind, readonly string[]> = {
  imap: ['host', 'port', 'tls', 'starttls', 'plain', 'user', 'password-file', 'ca', 'folders', 'follow', 'poll-seconds'],
  mbox: ['folder'],
  maildir: ['folder'],
  eml: ['folder'],
};

/** Prefixes each message's source id, so ids of different files never meet. */
async function* withSource(messages: AsyncIterable<SourceMessage>, prefix: string): AsyncGenerator<SourceMessage> {
  for await (const m of messages) yield { ...m, sourceId: `${prefix}${m.sourceId}` };
}

async function fileSources(kind: Exclude<Kind, 'imap'>, values: Values, positionals: string[], onSkip: (e: MigrateError) => void): Promise<FolderSource[]> {
  const folder = values.folder ?? 'INBOX';
  if (kind === 'mbox') {
    if (positionals.length === 0) throw new UsageError('import', 'import mbox needs at least one FILE');
    const { readMbox } = await import('../../migrate/mbox.ts');
    return positionals.map((file) => {
      const abs = path.resolve(file);
      return { target: { name: folder }, messages: withSource(readMbox(abs, { onSkip }), `mbox:${abs}#`) };
    });
  }
  if (kind === 'eml') {
    if (positionals.length === 0) throw new UsageError('import', 'import eml needs at least one FILE');
    const { readEml } = await import('../../migrate/eml.ts');
    const files = positionals.map((f) => path.resolve(f));
    return [{ target: { name: folder }, messages: withSource(readEml(files, { onSkip }), 'eml:'), count: files.length }];
  }
  if (positionals.length !== 1) throw new UsageError('import', 'import maildir needs exactly one DIR');
  const { maildirFolders, readMaildirFolder } = await import('../../migrate/maildir.ts');
  const dir = path.resolve(positionals[0] as string);
  return (await maildirFolders(dir)).map((f) => {
    const name = values.folder === undefined ? f.name : f.name === 'INBOX' ? values.folder : `${values.folder}/${f.name}`;
    const target: FolderTarget = { name, subscribed: f.subscribed };
    return { target, messages: withSource(readMaildirFolder(f, { onSkip }), `maildir:${dir}/`) };
  });
}

function summaryText(summary: ImportSummary, via: ImportSession['via']): string {
  const secs = summary.elapsedMs / 1000;
  const rate = secs > 0 ? summary.imported / secs : 0;
  return `imported ${summary.imported} message${summary.imported === 1 ? '' : 's'} ` +
    `(${(summary.bytes / 1024 / 1024).toFixed(1)} MB) into ${summary.folders.length} folder${summary.folders.length === 1 ? '' : 's'} ` +
    `in ${formatDuration(summary.elapsedMs)} (${rate.toFixed(1)} msg/s)` +
    `${summary.known > 0 ? `; ${summary.known} were imported before` : ''}${via === 'gateway' ? ', through the running gateway' : ''}`;
}

export const importCommand: Command = {
  name: 'import',
  summary: 'import mail from an IMAP account, an mbox, a Maildir or .eml files',
  help,
  async run(argv) {
    const [kindArg, ...rest] = argv;
    if (kindArg === undefined || kindArg === '--help' || kindArg === '-h') return print(help);
    if (!(KINDS as readonly string[]).includes(kindArg)) throw new UsageError('import', `unknown source "${kindArg}": give imap, mbox, maildir or eml`);
    const kind = kindArg as Kind;
    const { values, positionals } = parseCommand('import', rest, OPTIONS, kind === 'imap' ? 0 : Number.MAX_SAFE_INTEGER);
    if (values.help === true) return print(help);
    for (const other of KINDS.filter((k) => k !== kind)) {
      for (const flag of ONLY[other]) {
        if (!ONLY[kind].includes(flag) && (values as Record<string, unknown>)[flag] !== undefined) throw new UsageError('import', `--${flag} does not apply to import ${kind}`);
      }
    }
    const account = values.account;
    if (account === undefined || account === '') throw new UsageError('import', 'give --account ADDR (the Sealpost account to import into)');
    const password = (await passwordFlag('import', { 'account-password-file': values['account-password-file'] }, 'account-password')) ?? process.env['SEALPOST_PASSWORD'];
    if (password === undefined || password === '') {
      throw new UsageError('import', `the account's password is needed to unlock its key: give --account-password-file FILE or set SEALPOST_PASSWORD`);
    }

    const skipped: MigrateError[] = [];
    const onSkip = (e: MigrateError): void => {
      skipped.push(e);
      process.stderr.write(`\nskipped: ${e.message}\n`);
    };
    const logger = quietLogger();
    const session = await openImportSession({ dataDir: dataDirFrom(values), account, password, logger });
    const abort = new AbortController();
    const stop = (): void => {
      if (abort.signal.aborted) process.exit(130);
      process.stderr.write('\nstopping after the current batch (Ctrl-C again to quit at once)...\n');
      abort.abort();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    const progress = createProgressLine();
    try {
      let summary: ImportSummary;
      const onProgress = (p: ImportProgress): void =>
        progress.update({ label: p.folder, done: p.imported, skipped: p.known, bytes: p.bytes, total: p.total, startedAt: p.startedAt });
      if (kind === 'imap') {
        summary = await imapSources(values, session.target, { onSkip, onProgress, signal: abort.signal, logger, progress, ...(session.follow === undefined ? {} : { follow: session.follow }) });
      } else {
        const folders = await fileSources(kind, values, positionals, onSkip);
        summary = await runImport(session.target, folders, { onProgress, signal: abort.signal, total: folders.every((f) => typeof f.count === 'number') ? folders.reduce((n, f) => n + (f.count ?? 0), 0) : null });
      }
      progress.finish();
      print(summaryText(summary, session.via));
      if (skipped.length > 0) print(`${skipped.length} message${skipped.length === 1 ? ' was' : 's were'} skipped (listed above)`);
      if (abort.signal.aborted) print('interrupted: run the same command again to finish');
    } finally {
      progress.finish();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await session.close();
    }
  },
};
