// A throwaway GnuPG home for interop tests: runs the real gpg binary (2.2)
// in batch mode, and kills that home's gpg-agent on teardown.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface GpgRun {
  code: number;
  stdout: Buffer;
  /** "[GNUPG:] ..." machine-readable status lines (--status-fd) */
  status: string;
  stderr: string;
}

export interface GpgHome {
  dir: string;
  /** runs gpg with --homedir, --batch, --no-tty, --status-file; never throws on exit code */
  run(args: string[], input?: string | Uint8Array): GpgRun;
  /** like run, throws with gpg's stderr on a non-zero exit */
  ok(args: string[], input?: string | Uint8Array): GpgRun;
}

export function gpgHome(t: { teardown(fn: () => void): void }): GpgHome {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-gpg-'));
  fs.chmodSync(dir, 0o700);
  t.teardown(() => {
    try {
      execFileSync('gpgconf', ['--homedir', dir, '--kill', 'gpg-agent'], { stdio: 'ignore' });
    } catch {
      // no agent was started
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  let n = 0;
  const run = (args: string[], input?: string | Uint8Array): GpgRun => {
    const statusFile = path.join(dir, `status-${n++}`);
    const result = spawnSync('gpg', ['--homedir', dir, '--batch', '--no-tty', '--status-file', statusFile, ...args], {
      input: input ?? '',
      timeout: 30_000,
    });
    const status = fs.existsSync(statusFile) ? fs.readFileSync(statusFile, 'utf8') : '';
    return { code: result.status ?? -1, stdout: result.stdout, status, stderr: result.stderr.toString('utf8') };
  };
  return {
    dir,
    run,
    ok(args, input) {
      const result = run(args, input);
      if (result.code !== 0) throw new Error(`gpg ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
      return result;
    },
  };
}
