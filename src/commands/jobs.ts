import type { Deps } from '../platform/deps.js';
import { errorMessage } from '../platform/errors/describe.js';
import { BullmqJobQueue } from '../platform/jobs/bullmq.js';
import type { JobRow } from '../platform/jobs/tables.js';
import { deleteUnstarted, findJob, listFailed, resetFailed } from '../platform/jobs/store.js';
import { CommandError, type Output } from './output.js';

const describe = (row: JobRow) =>
  `#${row.id} ${row.name} ${JSON.stringify(row.payload)} attempts=${row.attempts}/${row.maxAttempts} ` +
  `${row.finishedAt?.toISOString() ?? ''}\n    ${row.lastError ?? ''}`;

/** `3600000` → `1 h`, `1800000` → `30 min`, `10000` → `10 s`. */
export function durationText(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

/** Every job, its schedule and, for a periodic one, when its next period starts (runs are per period). */
export function jobsList(deps: Deps, out: Output, now = new Date()): void {
  const definitions = deps.jobs.registry.all();
  if (definitions.length === 0) out.line('No jobs are registered.');
  for (const d of definitions) {
    const schedule = d.everyMs ? `every ${durationText(d.everyMs)}` : 'on demand';
    const next = d.everyMs
      ? `next ${new Date((Math.floor(now.getTime() / d.everyMs) + 1) * d.everyMs).toISOString()}`
      : '';
    out.line(`${d.name.padEnd(32)} ${schedule.padEnd(16)} ${next.padEnd(30)} ${d.description}`);
  }
  out.line(`Mode: ${deps.jobs.mode === 'eager' ? 'eager (in the API process)' : 'queue (BullMQ workers)'}`);
}

const FINISHED = new Set(['succeeded', 'failed']);

/**
 * `jobs:run <name>`: a periodic job now, through the queue (`runNow`), waiting for its first attempt
 * and printing what it did. In queue mode a worker runs it; in eager mode, this process.
 */
export async function jobsRun(
  deps: Deps,
  out: Output,
  name: string,
  timeoutMs = 10 * 60_000,
): Promise<JobRow> {
  const periodic = deps.jobs.registry.periodic().map((d) => d.name);
  if (!periodic.includes(name)) {
    throw new CommandError(`There is no periodic job named ${name}. Periodic jobs: ${periodic.join(', ')}.`);
  }
  const id = await deps.jobs.runNow(name);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = (await findJob(deps.db, id))!;
    if (FINISHED.has(row.status) || (row.attempts > 0 && row.lastError !== null)) {
      if (row.status !== 'succeeded') throw new CommandError(`${name} (job #${id}) failed: ${row.lastError}`);
      out.line(`${name}: ${row.result ?? 'done'}.`);
      return row;
    }
    if (Date.now() > deadline) {
      throw new CommandError(
        `${name} (job #${id}) has not finished after ${durationText(timeoutMs)} (${row.status}); is a worker running?`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function jobsFailed(deps: Deps, out: Output, limit = 50): Promise<void> {
  const rows = await listFailed(deps.db, limit);
  if (rows.length === 0) out.line('No failed jobs.');
  for (const row of rows) out.line(describe(row));
}

/** Gives a failed job a fresh set of attempts. Eager mode runs it here and now; queue mode hands it to the workers. */
export async function jobsRetry(deps: Deps, out: Output, id: number): Promise<JobRow> {
  const row = await resetFailed(deps.db, id);
  if (!row) {
    const existing = await findJob(deps.db, id);
    throw new CommandError(
      existing ? `Job #${id} is ${existing.status}, not failed.` : `There is no job #${id}.`,
    );
  }
  deps.jobs.kick();
  await deps.jobs.idle();
  const after = (await findJob(deps.db, id))!;
  out.line(
    deps.jobs.mode === 'eager'
      ? `Job #${id} ${row.name} ran again: ${after.status}${after.lastError ? ` (${after.lastError})` : ''}.`
      : `Job #${id} ${row.name} handed to the workers again (${after.status}).`,
  );
  return after;
}

export async function jobsPurge(deps: Deps, out: Output, confirmed: boolean): Promise<number> {
  if (!confirmed)
    throw new CommandError('This discards every job not yet run. Run it again with --yes to confirm.');
  const count = await deleteUnstarted(deps.db);
  if (deps.jobs instanceof BullmqJobQueue) await deps.jobs.drainQueue();
  out.line(`Discarded ${count} job${count === 1 ? '' : 's'} not yet run.`);
  return count;
}

export async function jobsPing(deps: Deps, out: Output, timeoutMs: number): Promise<void> {
  if (!(deps.jobs instanceof BullmqJobQueue)) {
    out.line('Jobs are eager: they run inside the API process; there are no workers to ping.');
    return;
  }
  try {
    const { answer, connected } = await deps.jobs.pingWorkers(timeoutMs);
    out.line(
      `pong from ${answer.host} pid ${answer.pid} (${connected} worker connection${connected === 1 ? '' : 's'})`,
    );
  } catch (err) {
    throw new CommandError(`No worker answered (${errorMessage(err)}). Is \`npm run worker\` running?`);
  }
}
