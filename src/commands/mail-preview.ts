import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { modules } from '../modules/index.js';
import { CommandError, type Output } from './output.js';

/**
 * `mail:preview [template]`: every e-mail template (or one), rendered with sample data, written as
 * `<name>.html` and `<name>.txt` under `DATA_DIR/mail/preview/`, so a shop can look at both parts.
 * Returns the files written.
 */
export function mailPreview(config: Config, out: Output, only?: string): string[] {
  const previews = modules.flatMap((m) => m.mailPreviews?.(config) ?? []);
  const chosen = only === undefined ? previews : previews.filter((p) => p.name === only);
  if (chosen.length === 0) {
    throw new CommandError(
      `There is no template named ${only}. Templates: ${previews.map((p) => p.name).join(', ')}.`,
    );
  }
  const dir = path.join(config.dataDir, 'mail', 'preview');
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const { name, message } of chosen) {
    for (const [ext, body] of [
      ['html', message.html],
      ['txt', message.text],
    ] as const) {
      const file = path.join(dir, `${name}.${ext}`);
      writeFileSync(file, body);
      written.push(file);
    }
    out.line(`${name.padEnd(24)} ${message.subject}  →  ${path.join(dir, name)}.{html,txt}`);
  }
  return written;
}
