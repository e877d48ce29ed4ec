import type { Logger } from 'pino';

export interface JobContext<TDeps> {
  deps: TDeps;
  log: Logger;
  jobId: number;
  attempt: number;
  requestId: string | null;
}

export interface JobDefinition<TDeps, TPayload = Record<string, unknown>> {
  name: string;
  description: string;
  /** Returns, if it likes, what it did in words ("3 reminders scheduled"): kept on the row, printed by `jobs:run`. */
  run(payload: TPayload, ctx: JobContext<TDeps>): Promise<string | void>;
  /** Periodic jobs: run once per period of this many milliseconds, however many processes run. */
  everyMs?: number;
}

/** Keeps the type of a job's payload for its author while the registry stores it plainly. */
export function defineJob<TDeps, TPayload extends object>(
  definition: JobDefinition<TDeps, TPayload>,
): JobDefinition<TDeps> {
  return definition as unknown as JobDefinition<TDeps>;
}

export class JobRegistry<TDeps> {
  private readonly byName = new Map<string, JobDefinition<TDeps>>();

  constructor(definitions: Iterable<JobDefinition<TDeps>>) {
    for (const definition of definitions) {
      if (this.byName.has(definition.name)) throw new Error(`Job ${definition.name} is defined twice`);
      this.byName.set(definition.name, definition);
    }
  }

  get(name: string): JobDefinition<TDeps> | undefined {
    return this.byName.get(name);
  }

  all(): JobDefinition<TDeps>[] {
    return [...this.byName.values()];
  }

  periodic(): Array<JobDefinition<TDeps> & { everyMs: number }> {
    return this.all().filter((d): d is JobDefinition<TDeps> & { everyMs: number } => d.everyMs !== undefined);
  }
}
