import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { waitFor } from './wait.js';

export interface SmtpSink {
  port: number;
  /** `smtp://127.0.0.1:<port>`, ready for `EMAIL_URL`. */
  url: string;
  /** Every message received so far, parsed, in arrival order. */
  messages: ParsedMail[];
  /** Resolves with the messages once at least `count` have arrived. */
  waitForMessages(count: number, timeoutMs?: number): Promise<ParsedMail[]>;
  /** Messages whose `To` includes `address` (case-insensitive). */
  messagesTo(address: string): ParsedMail[];
  /** Forgets the messages received so far. */
  clear(): void;
  close(): Promise<void>;
}

/** Recipient addresses of a parsed message's `To` header, lower-cased. */
export function recipientsOf(mail: ParsedMail): string[] {
  const to = mail.to === undefined ? [] : Array.isArray(mail.to) ? mail.to : [mail.to];
  return to.flatMap((group) => group.value.map((a) => (a.address ?? '').toLowerCase()));
}

/**
 * A real SMTP server on 127.0.0.1 (no auth, no TLS) that keeps every message it is sent; on any free
 * port, or on `port` (a test that "brings SMTP back" where the app already points).
 */
export async function startSmtpSink(requestedPort = 0): Promise<SmtpSink> {
  const messages: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          messages.push(mail);
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(requestedPort, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Past startup, a client's socket error must not crash the test run.
  server.on('error', () => {});
  const port = (server.server.address() as AddressInfo).port;

  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    async waitForMessages(count, timeoutMs = 10_000) {
      await waitFor(() => messages.length >= count, timeoutMs, `${count} e-mail(s) at the SMTP sink`);
      return messages;
    },
    messagesTo: (address) => messages.filter((m) => recipientsOf(m).includes(address.toLowerCase())),
    clear: () => void messages.splice(0),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
