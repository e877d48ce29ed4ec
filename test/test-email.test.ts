import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from './helpers/smtp.js';
import { freePort } from './helpers/wait.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TO = 'someone@example.com';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI (`src/cli.ts` through tsx) with only the given e-mail settings. */
function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const base = { ...process.env };
  // Whatever the outer environment says about e-mail must not leak into the command.
  for (const key of Object.keys(base)) if (key.startsWith('EMAIL_')) delete base[key];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      {
        cwd: ROOT,
        env: { ...base, NODE_ENV: 'test', SECRET_KEY: 'x'.repeat(40), LOG_LEVEL: 'silent', ...env },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('test-email command', () => {
  let sink: SmtpSink;
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nexus-test-email-'));
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterEach(() => sink.clear());
  afterAll(async () => {
    await sink?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('`test-email` delivers to an SMTP server started by the test, with HTML and text parts', async () => {
    const result = await runCli(['test-email', TO], { EMAIL_URL: sink.url, DATA_DIR: dataDir() });

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(TO);
    expect(result.stdout).toContain(`smtp://127.0.0.1:${sink.port}`);

    await sink.waitForMessages(1);
    expect(sink.messages).toHaveLength(1);
    expect(sink.messagesTo(TO)).toHaveLength(1);
    const mail = sink.messages[0]!;
    expect(mail.subject).toBe('Nexus Commerce test e-mail');
    expect(mail.text?.trim()).toBeTruthy();
    expect(typeof mail.html === 'string' && mail.html.trim()).toBeTruthy();
    expect(mail.text).toContain('It works');
    expect(mail.html).toContain('It works');
  });

  it('says where it sent and exits non-zero with the reason when sending fails', async () => {
    const port = await freePort(); // free, so nothing listens there
    const result = await runCli(['test-email', TO], {
      EMAIL_URL: `smtp://127.0.0.1:${port}`,
      DATA_DIR: dataDir(),
    });

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(TO);
    expect(result.stderr).toContain(`smtp://127.0.0.1:${port}`);
    expect(result.stderr).toMatch(/ECONNREFUSED/);
    expect(sink.messages).toHaveLength(0);
  });

  it('without EMAIL_URL or EMAIL_HOST writes the message as an .eml file under DATA_DIR/mail and names it', async () => {
    const dir = dataDir();
    const result = await runCli(['test-email', TO], { DATA_DIR: dir });

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const mailDir = path.join(dir, 'mail');
    const files = readdirSync(mailDir).filter((f) => f.endsWith('.eml'));
    expect(files).toHaveLength(1);
    const file = path.join(mailDir, files[0]!);
    expect(result.stdout).toContain(TO);
    expect(result.stdout).toContain(file);

    const eml = readFileSync(file, 'utf8');
    expect(eml).toMatch(/^To: someone@example\.com$/im);
    expect(eml).toMatch(/Content-Type: text\/plain/i);
    expect(eml).toMatch(/Content-Type: text\/html/i);
    expect(sink.messages).toHaveLength(0);
  });
});
