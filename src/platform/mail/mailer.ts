import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface SentMail {
  messageId: string;
  /** Where it went: `smtp://host:port`, or the `.eml` file written. */
  destination: string;
}

export interface Mailer {
  /** `smtp://host:port` or `files in <dir>`. */
  readonly description: string;
  send(message: MailMessage): Promise<SentMail>;
  close(): void;
}

export interface MailerConfig {
  from: string;
  url?: string | undefined;
  host?: string | undefined;
  port: number;
  user?: string | undefined;
  password?: string | undefined;
  useTls: boolean;
  /** Where `.eml` files go when no SMTP server is configured. */
  fileDir: string;
}

// A down or silent SMTP server must fail the send (and so the job's attempt) quickly.
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 };

class SmtpMailer implements Mailer {
  readonly description: string;
  private readonly transport: Transporter;

  constructor(private readonly config: MailerConfig) {
    if (config.url) {
      const url = new URL(config.url);
      this.description = `${url.protocol}//${url.hostname}:${url.port || (url.protocol === 'smtps:' ? 465 : 587)}`;
      this.transport = nodemailer.createTransport({ url: config.url, ...TIMEOUTS } as never);
    } else {
      this.description = `smtp://${config.host}:${config.port}`;
      this.transport = nodemailer.createTransport({
        host: config.host,
        port: config.port,
        secure: config.port === 465,
        requireTLS: config.useTls,
        ignoreTLS: !config.useTls && config.port !== 465,
        auth: config.user ? { user: config.user, pass: config.password ?? '' } : undefined,
        ...TIMEOUTS,
      });
    }
  }

  async send(message: MailMessage): Promise<SentMail> {
    const info = (await this.transport.sendMail({ from: this.config.from, ...message })) as {
      messageId: string;
    };
    return { messageId: info.messageId, destination: this.description };
  }

  close(): void {
    this.transport.close();
  }
}

/**
 * Development: each message becomes an `.eml` file, and the file is logged. Never the message's
 * links: a password reset link is a credential, and logs are kept and shipped far more widely.
 */
class FileMailer implements Mailer {
  readonly description: string;
  private readonly transport = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: 'unix',
  });

  constructor(
    private readonly config: MailerConfig,
    private readonly log: Logger,
  ) {
    this.description = `files in ${config.fileDir}`;
  }

  async send(message: MailMessage): Promise<SentMail> {
    const info = (await this.transport.sendMail({ from: this.config.from, ...message })) as {
      messageId: string;
      message: Buffer;
    };
    await mkdir(this.config.fileDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = path.join(this.config.fileDir, `${stamp}-${randomBytes(3).toString('hex')}.eml`);
    await writeFile(file, info.message);
    this.log.info({ to: message.to, subject: message.subject, file }, 'e-mail written to file');
    return { messageId: info.messageId, destination: file };
  }

  close(): void {
    this.transport.close();
  }
}

export function createMailer(config: MailerConfig, log: Logger): Mailer {
  return config.url || config.host ? new SmtpMailer(config) : new FileMailer(config, log);
}
