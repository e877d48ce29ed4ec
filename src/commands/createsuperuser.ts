import { createInterface } from 'node:readline/promises';
import type { Deps } from '../platform/deps.js';
import { HttpError } from '../platform/errors/http-errors.js';
import { createSuperuser } from '../modules/accounts/index.js';
import { CommandError, type Output } from './output.js';

export interface SuperuserOptions {
  username?: string;
  email?: string;
  /** From `--password` or `SUPERUSER_PASSWORD`. */
  password?: string;
  input: boolean;
}

/**
 * Questions on the terminal, answered line by line. One readline interface serves every question,
 * so answers piped in ahead of their prompts are not lost; passwords are read without echo.
 */
class Prompter {
  private readonly rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: process.stdin.isTTY,
  });
  private readonly lines = this.rl[Symbol.asyncIterator]();
  private readonly echo = (this.rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput;

  async ask(question: string, { hidden = false } = {}): Promise<string> {
    process.stdout.write(question);
    const rl = this.rl as unknown as { _writeToOutput: (s: string) => void };
    if (hidden) rl._writeToOutput = () => undefined;
    try {
      const next = await this.lines.next();
      if (next.done) throw new CommandError('Input ended before every answer was given.');
      return next.value.trim();
    } finally {
      if (hidden) {
        rl._writeToOutput = this.echo;
        if (process.stdin.isTTY) process.stdout.write('\n');
      }
    }
  }

  close(): void {
    this.rl.close();
  }
}

export async function createSuperuserCommand(
  deps: Deps,
  out: Output,
  options: SuperuserOptions,
): Promise<void> {
  let { username, email, password } = options;
  if (options.input && (!username || !email || !password)) {
    const prompter = new Prompter();
    try {
      username ||= await prompter.ask('Username: ');
      email ||= await prompter.ask('Email address: ');
      if (!password) {
        password = await prompter.ask('Password: ', { hidden: true });
        if ((await prompter.ask('Password (again): ', { hidden: true })) !== password) {
          throw new CommandError("Error: the passwords didn't match.");
        }
      }
    } finally {
      prompter.close();
    }
  }
  const missing = [
    !username && '--username',
    !email && '--email',
    !password && '--password or SUPERUSER_PASSWORD',
  ]
    .filter(Boolean)
    .join(', ');
  if (missing) throw new CommandError(`Missing ${missing} (with --no-input nothing is asked).`);
  try {
    const user = await createSuperuser(deps, { username: username!, email: email!, password: password! });
    out.line(`Superuser ${user.username} <${user.email}> created (id ${user.id}).`);
  } catch (err) {
    if (err instanceof HttpError && err.statusCode === 400) {
      const lines = Object.entries(err.body).map(
        ([field, messages]) => `${field}: ${(messages as string[]).join(' ')}`,
      );
      throw new CommandError(`Error: ${lines.join('; ')}`);
    }
    throw err;
  }
}
