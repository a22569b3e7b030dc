// `sealpost start`: runs the gateway in the foreground until SIGINT/SIGTERM.
import { startGateway, type Gateway } from '../../app.ts';
import type { PortsConfig } from '../../config/config.ts';
import { dataPaths } from '../../config/paths.ts';
import { NotAllowedError } from '../../errors/index.ts';
import { portsLine } from '../output.ts';
import { readRunningGateway, removeGatewayState, writeGatewayState } from '../state.ts';
import { DATA_DIR_OPTION, dataDirFrom, parseCommand, portFlag, print, type Command } from '../args.ts';

export const help = `Usage: sealpost start [--data-dir DIR] [--listen HOST] [--smtp-port N] [--smtps-port N]
                      [--imap-port N] [--imaps-port N]

Runs the gateway in the foreground: SMTP submission and IMAP on 127.0.0.1.
Prints the ports actually bound, then logs as JSON lines on stderr.
Ctrl-C (SIGINT) or SIGTERM stops it gracefully.

Options:
  --listen HOST       address to listen on (default 127.0.0.1). Anything
                      other than loopback lets other machines connect.
  --smtp-port N       SMTP submission with STARTTLS   (default 1587)
  --smtps-port N      SMTP submission with SSL/TLS    (default 1465)
  --imap-port N       IMAP with STARTTLS              (default 1143)
  --imaps-port N      IMAP with SSL/TLS               (default 1993)
                      Port 0 picks a free port.
  --data-dir DIR      data directory (default: $SEALPOST_HOME, else
                      $XDG_DATA_HOME/sealpost, else ~/.local/share/sealpost)

Example:
  sealpost start --data-dir ~/sealpost --imap-port 0 --smtp-port 0`;

export const START_OPTIONS = {
  ...DATA_DIR_OPTION,
  listen: { type: 'string' },
  'smtp-port': { type: 'string' },
  'smtps-port': { type: 'string' },
  'imap-port': { type: 'string' },
  'imaps-port': { type: 'string' },
} as const;

export interface StartFlags {
  listen?: string;
  ports: Partial<PortsConfig>;
}

export function startFlags(command: string, values: Partial<Record<keyof typeof START_OPTIONS, string | boolean>>): StartFlags {
  const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
  const ports: Partial<PortsConfig> = {};
  for (const name of ['smtp', 'smtps', 'imap', 'imaps'] as const) {
    const port = portFlag(command, `${name}-port`, str(values[`${name}-port`]));
    if (port !== undefined) ports[name] = port;
  }
  const listen = str(values.listen);
  return { ports, ...(listen !== undefined ? { listen } : {}) };
}

/**
 * Starts the gateway, records gateway.json, and resolves once a signal has closed it.
 * `onStarted` prints whatever the caller wants after the ports line.
 */
export async function runGateway(dataDir: string, flags: StartFlags, onStarted?: (gateway: Gateway) => Promise<void> | void): Promise<void> {
  const paths = dataPaths(dataDir);
  const running = await readRunningGateway(paths.gatewayState);
  if (running !== null && running.pid !== process.pid) {
    throw new NotAllowedError(`a gateway is already running on this data directory (pid ${running.pid}, IMAP port ${running.ports.imap})`);
  }
  const gateway = await startGateway({ dataDir, ports: flags.ports, ...(flags.listen !== undefined ? { listen: flags.listen } : {}) });
  await writeGatewayState(paths.gatewayState, { pid: process.pid, listen: gateway.listen, ports: gateway.ports, startedAt: new Date().toISOString() });
  print(portsLine(gateway.listen, gateway.ports));
  await onStarted?.(gateway);
  // Handlers first, then the prompt: a signal sent as soon as the prompt shows must stop us gracefully.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      gateway.node.logger.info({ signal }, 'stopping');
      void gateway.close()
        .then(() => removeGatewayState(paths.gatewayState, process.pid))
        .finally(resolve);
    };
    const onInt = (): void => stop('SIGINT');
    const onTerm = (): void => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  print('Press Ctrl-C to stop.');
  await stopped;
}

export const startCommand: Command = {
  name: 'start',
  summary: 'run the gateway (SMTP and IMAP on localhost)',
  help,
  async run(argv) {
    const { values } = parseCommand('start', argv, START_OPTIONS);
    if (values.help === true) return print(help);
    await runGateway(dataDirFrom(values), startFlags('start', values));
  },
};
