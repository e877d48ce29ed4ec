import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type { Logger as DrizzleLogger } from 'drizzle-orm';
import { sql, type SQL } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { StatementNames } from './prepared-statements.js';

/** The one database type services see, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT>;
export type DrizzleTx = PgTransaction<
  PgQueryResultHKT,
  Record<string, never>,
  ExtractTablesWithRelations<Record<string, never>>
>;
/** Anything that runs a query: the database or an open transaction. */
export type Executor = Db | DrizzleTx;

export interface DatabaseHandle {
  kind: 'pglite' | 'postgres';
  db: Db;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** `postgres://…`; PGlite when absent. */
  url?: string | undefined;
  /** PGlite data directory; in memory when absent. */
  pgliteDir?: string | undefined;
  poolSize?: number;
  /** Distinct parameterised statements each connection prepares (PostgreSQL only); 0 for none. */
  preparedStatements?: number;
  /**
   * PostgreSQL cancels any statement of the pool's sessions that runs longer (SQLSTATE 57014,
   * answered as a 503); 0 for none; absent, the server's default. PGlite ignores it (see below).
   */
  statementTimeoutMs?: number;
  /** Sees every SQL statement: tests count queries with it. */
  onQuery?: (query: string, params: unknown[]) => void;
}

/** Rows of a raw `execute`: both drivers return an object with `rows`. */
export async function queryRows<T>(executor: Executor, query: SQL): Promise<T[]> {
  const result: unknown = await executor.execute(query);
  return (result as { rows: T[] }).rows;
}

/**
 * Every session runs in UTC, whatever the server's default: timestamps that PostgreSQL writes as
 * text (JSON, `to_char`, dates) are then the same everywhere, and their offsets are always ones
 * JavaScript can read (a zone's offset before 1900 can hold seconds, e.g. +00:09:21 in Paris).
 */
const UTC_SESSION = "SET TIME ZONE 'UTC'";

/**
 * What every pooled session is set to: UTC, and the statement timeout, so that a runaway query
 * (a planted cycle, a pathological filter) gives its connection back instead of holding it for
 * good. SET rather than a startup parameter: PgBouncer refuses unknown startup parameters.
 * Without a timeout given, the server's (or role's) default stays.
 */
function sessionSettings(statementTimeoutMs: number | undefined): string {
  if (statementTimeoutMs === undefined) return UTC_SESSION;
  return `${UTC_SESSION}; SET statement_timeout = ${Math.max(0, Math.trunc(statementTimeoutMs))}`;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const logger: DrizzleLogger | undefined = options.onQuery
    ? { logQuery: (query: string, params: unknown[]) => options.onQuery!(query, params) }
    : undefined;

  if (options.url) {
    const settings = sessionSettings(options.statementTimeoutMs);
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      idleTimeoutMillis: 30_000,
      // pg-pool awaits this before it hands the new connection out (its types say void).
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      onConnect: async (client) => void (await client.query(settings)),
    });
    // A dropped idle connection must not crash the process; the pool replaces it.
    pool.on('error', () => undefined);
    const names = new StatementNames(options.preparedStatements ?? 0);
    pool.on('connect', (client) => names.nameQueriesOf(client));
    const db = drizzlePg({ client: pool, logger }) as unknown as Db;
    return {
      kind: 'postgres',
      db,
      ping: () => ping(db),
      close: () => pool.end(),
    };
  }

  if (options.pgliteDir) mkdirSync(path.dirname(options.pgliteDir), { recursive: true });
  const client = await PGlite.create({ dataDir: options.pgliteDir, extensions: { pg_trgm } });
  // No statement timeout here: PGlite's WebAssembly build never fires it (a 1 s pg_sleep under
  // `statement_timeout = 200` runs to its end), and its one session runs one query at a time
  // in-process, so there is no pool for a stuck statement to drain.
  await client.exec(UTC_SESSION);
  const db = drizzlePglite({ client, logger }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    ping: () => ping(db),
    close: () => client.close(),
  };
}

async function ping(db: Db): Promise<boolean> {
  try {
    await db.execute(sql`select 1`);
    return true;
  } catch {
    return false;
  }
}
