import { LRUCache } from 'lru-cache';
import type pg from 'pg';

/**
 * Names parameterised statements so that each connection parses and plans a statement once and
 * then only binds and executes it: for the short queries of an API, planning costs more than
 * running. A text gets a name on its second use, so one-off statements (a rare combination of list
 * filters) take no place, and at most `limit` texts of the process get one; the rest run unnamed,
 * so ad-hoc queries cannot grow every connection's list of prepared statements without bound.
 * Statements without parameters stay unnamed: they may hold several commands (migrations), which
 * a prepared statement cannot.
 */
export class StatementNames {
  private readonly names = new Map<string, string>();
  private readonly seenOnce = new LRUCache<string, true>({ max: 1000 });

  constructor(private readonly limit: number) {}

  nameFor(text: string): string | undefined {
    const name = this.names.get(text);
    if (name !== undefined || this.names.size >= this.limit) return name;
    if (!this.seenOnce.has(text)) {
      this.seenOnce.set(text, true);
      return undefined;
    }
    this.seenOnce.delete(text);
    const fresh = `nexus_${this.names.size}`;
    this.names.set(text, fresh);
    return fresh;
  }

  /** Makes every query of `client` go through `nameFor`; for the pool's `connect` event. */
  nameQueriesOf(client: pg.PoolClient): void {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: (...args: unknown[]) => unknown }).query = (config: unknown, ...rest: unknown[]) =>
      query(this.named(config, rest[0]), ...rest);
  }

  private named(config: unknown, values: unknown): unknown {
    if (typeof config !== 'object' || config === null) return config;
    const c = config as { text?: unknown; name?: unknown; values?: unknown; submit?: unknown };
    if (typeof c.text !== 'string' || c.name !== undefined || typeof c.submit === 'function') return config;
    const params = Array.isArray(values) ? values : c.values;
    if (!Array.isArray(params) || params.length === 0) return config;
    const name = this.nameFor(c.text);
    return name === undefined ? config : { ...c, name };
  }
}
