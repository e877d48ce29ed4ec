import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from './wait.js';

export interface RunningProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts a program with the project's folder as working directory, keeping what it prints. */
export function run(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
): RunningProcess {
  const child = spawn(command, args, {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A group of its own, so `killGroup` also reaches what it started (npm's child, say).
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Waits until `url` answers 200. */
export async function waitForHttp(url: string, timeoutMs: number, proc: RunningProcess): Promise<void> {
  await waitFor(
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`process exited early:\n${proc.output()}`);
      try {
        return (await fetch(url)).status === 200;
      } catch {
        return false;
      }
    },
    timeoutMs,
    `${url} to answer`,
  );
}

/** SIGKILLs the process and everything in its group, if any of it is still running. */
export function killGroup(proc: RunningProcess): void {
  try {
    process.kill(-proc.child.pid!, 'SIGKILL');
  } catch {
    // the whole group has exited already
  }
}
