// `sealpost import imap`: the IMAP account as import folders (migrate/
// imap-source.ts), then, with --follow, new mail as it arrives there.
import fs from 'node:fs/promises';
import type { Logger } from 'pino';
import type { MigrateError } from '../../migrate/errors.ts';
import { runImport, type ImportProgress, type ImportSummary, type ImportTarget } from '../../migrate/run.ts';
import { passwordFlag, portFlag, print, UsageError } from '../args.ts';
import type { ProgressLine } from '../progress.ts';
import type { FollowSource } from '../../pipeline/follow.ts';

interface ImapValues {
  host?: string | undefined;
  port?: string | undefined;
  tls?: boolean | undefined;
  starttls?: boolean | undefined;
  plain?: boolean | undefined;
  user?: string | undefined;
  'password-file'?: string | undefined;
  ca?: string | undefined;
  folders?: string | undefined;
  follow?: boolean | undefined;
  'poll-seconds'?: string | undefined;
}

interface Context {
  /** hands --follow to the running gateway (absent: this command follows, while it runs) */
  follow?: (source: FollowSource) => Promise<void>;
  onSkip: (e: MigrateError) => void;
  onProgress: (p: ImportProgress) => void;
  signal: AbortSignal;
  logger: Logger;
  progress: ProgressLine;
}

export async function imapSources(values: ImapValues, target: ImportTarget, context: Context): Promise<ImportSummary> {
  const host = values.host;
  if (host === undefined || host === '') throw new UsageError('import', 'import imap needs --host HOST');
  const user = values.user;
  if (user === undefined || user === '') throw new UsageError('import', 'import imap needs --user USER (the login at the old server)');
  const modes = (['tls', 'starttls', 'plain'] as const).filter((m) => values[m] === true);
  if (modes.length > 1) throw new UsageError('import', 'give one of --tls, --starttls, --plain');
  const security = modes[0] ?? 'tls';
  const port = portFlag('import', 'port', values.port) ?? (security === 'tls' ? 993 : 143);
  const password = (await passwordFlag('import', { password: undefined, 'password-file': values['password-file'] }, 'password')) ?? process.env['SEALPOST_IMPORT_PASSWORD'];
  if (password === undefined || password === '') throw new UsageError('import', 'the old account\'s password is needed: give --password-file FILE or set SEALPOST_IMPORT_PASSWORD');
  let ca: string | undefined;
  if (values.ca !== undefined) {
    try {
      ca = await fs.readFile(values.ca, 'utf8');
    } catch (error) {
      throw new UsageError('import', `cannot read --ca ${values.ca}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  const pollSeconds = values['poll-seconds'] === undefined ? 60 : Number(values['poll-seconds']);
  if (!Number.isFinite(pollSeconds) || pollSeconds < 1) throw new UsageError('import', '--poll-seconds must be a number of seconds, at least 1');
  const include = values.folders === undefined ? undefined : values.folders.split(',').map((g) => g.trim()).filter((g) => g !== '');

  const { openImapSource } = await import('../../migrate/imap-source.ts');
  const source = await openImapSource({ host, port, security, user, password, logger: context.logger, onSkip: context.onSkip, ...(ca === undefined ? {} : { ca }) });
  try {
    const folders = await source.folders(include === undefined ? {} : { include });
    const known = (ids: string[]) => target.known(ids);
    const summary = await runImport(target, folders.map((f) => ({
      target: { name: f.name, specialUse: f.specialUse, subscribed: f.subscribed },
      messages: source.messages(f, { known }),
      count: f.messages,
    })), {
      onProgress: (p) => context.onProgress({ ...p, known: p.known + source.stats.skippedKnown }),
      signal: context.signal, total: folders.reduce((n, f) => n + f.messages, 0),
    });
    // Messages the source left out as already imported (never downloaded) count as known.
    summary.known += source.stats.skippedKnown;
    if (values.follow !== true || context.signal.aborted) return summary;

    context.progress.finish();
    if (context.follow !== undefined) {
      // The running gateway follows from now on (also after restarts, while the account is unlocked).
      await context.follow({ host, port, security, user, password, ...(ca === undefined ? {} : { ca }), ...(include === undefined ? {} : { include }), intervalMs: pollSeconds * 1000 });
      print(`imported ${summary.imported} messages; the gateway now brings in new mail from ${host} as it arrives (while ${'the account'} is logged in)`);
      return summary;
    }
    // --follow without a gateway: this command follows, one message at a time as it comes.
    print(`imported ${summary.imported} messages; now following ${host} for new mail (Ctrl-C to stop)`);
    const names = new Map<string, string>();
    for (const f of folders) names.set(f.path, await target.folder({ name: f.name, specialUse: f.specialUse, subscribed: f.subscribed }));
    let followed = 0;
    for await (const message of source.follow(folders, { signal: context.signal, intervalMs: pollSeconds * 1000, known })) {
      const folder = names.get(message.folder.path) ?? message.folder.name;
      const [outcome] = await target.importBatch([{ folder, raw: message.raw, flags: message.flags, internalDate: message.internalDate, source: message.sourceId }]);
      if (outcome === 'imported') {
        followed++;
        print(`new message in ${folder} (${followed} since following)`);
      }
    }
    return { ...summary, imported: summary.imported + followed };
  } finally {
    await source.close();
  }
}
