import { createInterface } from 'node:readline/promises';
import type { Deps } from '../deps.js';
import { HttpError } from '../platform/errors/http-errors.js';
import { createSuperuser } from '../modules/accounts/superusers.js';
import { CommandError, type Output } from './output.js';

export interface SuperuserOptions {
  username?: string;
  email?: string;
  /** From `--password` or `SUPERUSER_PASSWORD`. */
  password?: string;
  input: boolean;
}

/** Asks on the terminal; the password is read without echo. */
async function prompt(question: string, hidden = false): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  if (hidden && process.stdin.isTTY) {
    // readline echoes what is typed; for a password only the question is shown.
    const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput.bind(rl);
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (s.startsWith(question)) write(question);
    };
  }
  try {
    return (await rl.question(question)).trim();
  } finally {
    if (hidden && process.stdin.isTTY) process.stdout.write('\n');
    rl.close();
  }
}

export async function createSuperuserCommand(
  deps: Deps,
  out: Output,
  options: SuperuserOptions,
): Promise<void> {
  let { username, email, password } = options;
  if (options.input) {
    username ??= await prompt('Username: ');
    email ??= await prompt('Email address: ');
    if (!password) {
      password = await prompt('Password: ', true);
      if ((await prompt('Password (again): ', true)) !== password)
        throw new CommandError("Error: the passwords didn't match.");
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
