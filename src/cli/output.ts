// What the CLI prints for people: the mail client settings block (the same
// fields Thunderbird's and Outlook's manual account setup ask for).
import type { PortsConfig } from '../config/config.ts';

export interface SettingsInput {
  host: string;
  ports: PortsConfig;
  address: string;
  /** printed only when given (a generated password, shown once) */
  password?: string;
  tlsFingerprint: string;
}

export function clientSettings(input: SettingsInput): string {
  const host = input.host === '0.0.0.0' || input.host === '::' ? '127.0.0.1' : input.host;
  const lines = [
    'Mail client settings (manual setup):',
    `  Incoming  IMAP  server ${host}  port ${input.ports.imap}  security STARTTLS    (or port ${input.ports.imaps} with SSL/TLS)`,
    `  Outgoing  SMTP  server ${host}  port ${input.ports.smtp}  security STARTTLS    (or port ${input.ports.smtps} with SSL/TLS)`,
    `  User name       ${input.address}   (for both IMAP and SMTP)`,
    '  Authentication  normal password',
  ];
  if (input.password !== undefined) {
    lines.push(`  Password        ${input.password}`);
    lines.push('                  (shown only this once: enter it in your mail client now)');
  }
  lines.push(
    '',
    'TLS certificate: self-signed for localhost and 127.0.0.1. Your mail client will ask',
    'you once to accept it; accept it if its SHA-256 fingerprint is:',
    `  ${input.tlsFingerprint}`,
  );
  return lines.join('\n');
}

export function portsLine(host: string, ports: PortsConfig): string {
  return `Listening on ${host}: SMTP ${ports.smtp} (STARTTLS), SMTPS ${ports.smtps} (SSL/TLS), IMAP ${ports.imap} (STARTTLS), IMAPS ${ports.imaps} (SSL/TLS)`;
}
