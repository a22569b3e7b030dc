// The progress line of long commands (import, restore): counts, rate, MB/s
// and ETA. On a terminal one line is redrawn in place (at most 10 times a
// second); into a file or pipe, a plain line every few seconds, so logs of a
// long import stay readable. Written to stderr: stdout keeps the result.
export interface ProgressState {
  /** what is being worked on now (a folder) */
  label: string;
  done: number;
  /** items skipped as already done (a re-run) */
  skipped: number;
  bytes: number;
  /** null when the total is not known */
  total: number | null;
  startedAt: number;
}

export interface ProgressLine {
  update(state: ProgressState): void;
  /** ends the line (terminal) */
  finish(): void;
}

const MB = 1024 * 1024;

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** One progress line: "INBOX  1,234/10,000 (12%)  456 msg/s  3.2 MB/s  ETA 0:19  (12 already there)". */
export function progressText(state: ProgressState, now: number): string {
  const elapsed = Math.max(1, now - state.startedAt);
  const rate = (state.done * 1000) / elapsed;
  const mbs = (state.bytes * 1000) / elapsed / MB;
  const handled = state.done + state.skipped;
  const count = state.total === null
    ? `${handled.toLocaleString('en-US')}`
    : `${handled.toLocaleString('en-US')}/${state.total.toLocaleString('en-US')} (${Math.min(100, Math.floor((handled * 100) / Math.max(1, state.total)))}%)`;
  let eta = '';
  if (state.total !== null && rate > 0) eta = `  ETA ${formatDuration(((state.total - handled) / rate) * 1000)}`;
  const skipped = state.skipped > 0 ? `  (${state.skipped.toLocaleString('en-US')} already there)` : '';
  return `${state.label}  ${count}  ${rate.toFixed(rate < 10 ? 1 : 0)} msg/s  ${mbs.toFixed(1)} MB/s${eta}${skipped}`;
}

export function createProgressLine(options: { stream?: NodeJS.WriteStream; now?: () => number; intervalMs?: number } = {}): ProgressLine {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  const tty = stream.isTTY === true;
  const interval = options.intervalMs ?? (tty ? 100 : 5000);
  let last = 0;
  let drawn = false;
  let latest: ProgressState | null = null;
  let finished = false;
  const draw = (state: ProgressState): void => {
    const text = progressText(state, now());
    if (tty) {
      const width = stream.columns ?? 100;
      stream.write(`\r${text.slice(0, width - 1).padEnd(Math.min(width - 1, 100))}`);
    } else stream.write(`${text}\n`);
    drawn = true;
  };
  return {
    update(state) {
      latest = state;
      const t = now();
      if (t - last < interval) return;
      last = t;
      draw(state);
    },
    finish() {
      if (finished) return;
      finished = true;
      if (latest !== null) draw(latest);
      if (tty && drawn) stream.write('\n');
    },
  };
}
