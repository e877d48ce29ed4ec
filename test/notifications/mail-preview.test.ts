/**
 * Issue 12, acceptance 5: `mail:preview` writes a sample of every e-mail template, both parts, under
 * `DATA_DIR/mail/preview/`: `<name>.html` a full HTML document and `<name>.txt` its plain-text twin
 * (the same heading, paragraphs and links, no tags), both signed with `SHOP_NAME`; a template named
 * alone is the only one written; an unknown name is a CommandError listing the templates. And the
 * real CLI does the same as a child process.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { mailPreview } from '../../src/commands/mail-preview.js';
import { CommandError } from '../../src/commands/output.js';
import { testConfig } from '../helpers/app.js';
import { captureOutput } from '../helpers/output.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Distinctive, and with an `&` that the HTML part must escape and the text part must not. */
const SHOP_NAME = 'Hartwell & Finch Provisions';
const SITE_URL = 'https://shop.hartwell-finch.example';
const CLI_TIMEOUT_MS = 90_000;

const TEMPLATES = [
  'verification_email',
  'password_reset_email',
  'order_confirmation',
  'order_shipped',
  'order_cancelled',
  'order_refunded',
  'abandoned_cart',
  'low_stock_alert',
];

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };
const decode = (html: string) => html.replace(/&(amp|lt|gt|quot|#39);/g, (_m, e: string) => ENTITIES[e]!);
const plain = (html: string) =>
  decode(html.replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();

/** The heading and the content paragraphs (`<p>` without a style) of an HTML part, as text. */
function keySentences(html: string): string[] {
  const blocks = [...html.matchAll(/<h1[^>]*>([\s\S]*?)<\/h1>|<p>([\s\S]*?)<\/p>/g)];
  return blocks.map((m) => plain(m[1] ?? m[2]!)).filter((s) => s.length > 0);
}

/** Checks one template's two files: a full document and its plain twin, both signed by the shop. */
function expectTwinParts(dir: string, name: string) {
  const html = readFileSync(path.join(dir, `${name}.html`), 'utf8');
  const text = readFileSync(path.join(dir, `${name}.txt`), 'utf8');
  expect(html.trim().length, `${name}.html`).toBeGreaterThan(0);
  expect(text.trim().length, `${name}.txt`).toBeGreaterThan(0);

  // A full HTML document, titled with its subject.
  expect(html).toMatch(/^<!doctype html>\s*<html[\s>]/i);
  expect(html).toMatch(/<head>[\s\S]*<meta charset="utf-8">[\s\S]*<title>[^<]+<\/title>[\s\S]*<\/head>/);
  expect(html).toMatch(/<body[\s>][\s\S]*<\/body>\s*<\/html>\s*$/);

  // Its plain twin: no tags, no entities, and every key sentence and link of the HTML.
  expect(text).not.toMatch(/<\/?[a-z!][^>]*>/i);
  expect(text).not.toMatch(/&(amp|lt|gt|quot|#39);/);
  const sentences = keySentences(html);
  expect(sentences.length, `${name}: heading and paragraphs`).toBeGreaterThanOrEqual(2);
  const flatText = text.replace(/\s+/g, ' ');
  for (const sentence of sentences) expect(flatText, `${name}.txt`).toContain(sentence);
  const heading = plain(/<h1[^>]*>([\s\S]*?)<\/h1>/.exec(html)![1]!);
  expect(text.split('\n')[0]).toBe(heading);
  for (const [, href] of html.matchAll(/href="([^"]+)"/g)) expect(text).toContain(decode(href!));

  // Both end with the shop's name: escaped in the HTML, as it is in the text.
  expect(text.trimEnd()).toMatch(new RegExp(`— ${SHOP_NAME}$`));
  expect(html).toMatch(/<p[^>]*>— Hartwell &amp; Finch Provisions<\/p>\s*<\/body>\s*<\/html>\s*$/);
  expect(html).not.toContain('Hartwell & Finch');
  return { html, text };
}

describe('mailPreview (in process)', () => {
  const dirs: string[] = [];
  const config = () => {
    const c = testConfig({ SHOP_NAME, SITE_URL });
    dirs.push(c.dataDir);
    return c;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('writes every template as .html and .txt under DATA_DIR/mail/preview/, both parts twins signed by SHOP_NAME', () => {
    const c = config();
    const out = captureOutput();
    const written = mailPreview(c, out);
    const dir = path.join(c.dataDir, 'mail', 'preview');

    const expected = TEMPLATES.flatMap((name) => [`${name}.html`, `${name}.txt`]);
    expect(readdirSync(dir).sort()).toEqual([...expected].sort());
    expect([...written].sort()).toEqual(expected.map((f) => path.join(dir, f)).sort());
    expect(out.errors).toEqual([]);
    expect(out.lines).toHaveLength(TEMPLATES.length);
    for (const name of TEMPLATES) {
      const line = out.lines.find((l) => l.startsWith(`${name} `));
      expect(line, name).toBeDefined();
      expect(line).toContain(`${path.join(dir, name)}.{html,txt}`);
      expectTwinParts(dir, name);
    }

    // The subject is the document's title, and each template says its own thing.
    const title = (name: string) =>
      decode(/<title>([^<]+)<\/title>/.exec(readFileSync(path.join(dir, `${name}.html`), 'utf8'))![1]!);
    expect(title('verification_email')).toBe('Verify your e-mail address');
    expect(title('password_reset_email')).toBe('Reset your password');
    expect(title('order_confirmation')).toBe('Order NX-7KQ2M9 confirmed');
    expect(title('order_shipped')).toBe('Order NX-7KQ2M9 has shipped');
    expect(title('order_cancelled')).toBe('Order NX-7KQ2M9 was cancelled');
    expect(title('order_refunded')).toBe('Order NX-7KQ2M9 was refunded');
    expect(title('abandoned_cart')).toBe('You left something in your cart');
    expect(title('low_stock_alert')).toBe('Low stock: 2 variants');
    for (const name of TEMPLATES) {
      const subject = title(name);
      expect(out.lines.find((l) => l.startsWith(`${name} `))).toContain(subject);
    }

    // The notification samples carry what their real messages do, in both parts.
    const cart = {
      html: readFileSync(path.join(dir, 'abandoned_cart.html'), 'utf8'),
      text: readFileSync(path.join(dir, 'abandoned_cart.txt'), 'utf8'),
    };
    for (const part of [cart.html, cart.text]) {
      expect(part).toContain(`${SITE_URL}/cart/`);
      expect(part).toContain('WH-1000-BLK');
      expect(part).toContain('WH-1000-WHT');
      expect(part).toContain('59.97');
    }
    const alert = readFileSync(path.join(dir, 'low_stock_alert.txt'), 'utf8');
    expect(alert).toContain('Wireless Headphones — Black (WH-1000-BLK): 2 left, threshold 5');
    expect(alert).toContain('Wireless Headphones — White (WH-1000-WHT): 0 left, threshold 5');
    expect(readFileSync(path.join(dir, 'verification_email.txt'), 'utf8')).toContain(
      `${SITE_URL}/api/verify-email/sample-token/`,
    );
  });

  it('one template by name writes only that one', () => {
    const c = config();
    const out = captureOutput();
    const dir = path.join(c.dataDir, 'mail', 'preview');
    const written = mailPreview(c, out, 'low_stock_alert');
    expect(readdirSync(dir).sort()).toEqual(['low_stock_alert.html', 'low_stock_alert.txt']);
    expect(written.sort()).toEqual([
      path.join(dir, 'low_stock_alert.html'),
      path.join(dir, 'low_stock_alert.txt'),
    ]);
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatch(/^low_stock_alert +Low stock: 2 variants {2}→ {2}/);
    expectTwinParts(dir, 'low_stock_alert');
  });

  it('an unknown template is a CommandError listing the templates, and writes nothing', () => {
    const c = config();
    const out = captureOutput();
    let error: unknown;
    try {
      mailPreview(c, out, 'order_lost');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CommandError);
    const message = (error as Error).message;
    expect(message).toContain('order_lost');
    for (const name of TEMPLATES) expect(message).toContain(name);
    expect(out.lines).toEqual([]);
    expect(existsSync(path.join(c.dataDir, 'mail', 'preview'))).toBe(false);
  });
});

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real CLI (`src/cli.ts` through tsx); nothing about e-mail, databases or Redis from outside. */
function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const base: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(base)) {
    if (key.startsWith('EMAIL_') || ['DATABASE_URL', 'REDIS_URL', 'SHOP_NAME', 'SITE_URL'].includes(key)) {
      delete base[key];
    }
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      {
        cwd: ROOT,
        env: { ...base, NODE_ENV: 'test', SECRET_KEY: 'x'.repeat(40), LOG_LEVEL: 'silent', ...env },
        timeout: CLI_TIMEOUT_MS - 10_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('`cli.ts mail:preview` as a real process', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nexus-mail-preview-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'exit 0, and every template’s two files are in DATA_DIR/mail/preview/',
    async () => {
      const dir = dataDir();
      const result = await runCli(['mail:preview'], { DATA_DIR: dir, SHOP_NAME, SITE_URL });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const preview = path.join(dir, 'mail', 'preview');
      expect(readdirSync(preview).sort()).toEqual(
        TEMPLATES.flatMap((name) => [`${name}.html`, `${name}.txt`]).sort(),
      );
      for (const name of TEMPLATES) {
        expect(result.stdout).toContain(`${path.join(preview, name)}.{html,txt}`);
        expectTwinParts(preview, name);
      }
    },
    CLI_TIMEOUT_MS,
  );

  it(
    'an unknown template: exit 1, the message lists the templates, nothing written',
    async () => {
      const dir = dataDir();
      const result = await runCli(['mail:preview', 'order_lost'], { DATA_DIR: dir, SHOP_NAME });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('There is no template named order_lost');
      for (const name of TEMPLATES) expect(result.stderr).toContain(name);
      expect(existsSync(path.join(dir, 'mail', 'preview'))).toBe(false);
    },
    CLI_TIMEOUT_MS,
  );
});
