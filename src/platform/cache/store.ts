import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { pingRedis } from '../redis.js';

export interface VersionedRead {
  version: string;
  /** Bytes, as stored: a response body goes out to the socket without being decoded and encoded again. */
  value: Buffer | null;
}

const versionOf = (scopes: string[], generations: Array<string | null>) =>
  scopes.map((scope, i) => `${scope}.${generations[i] ?? 0}`).join(',');

/** A small key-value cache with expiry: memory in one process, Redis across processes and hosts. */
export interface CacheStore {
  get(key: string): Promise<string | null>;
  /**
   * Reads the generation counters `gen:<scope>` and, in the same round trip, the entry they point
   * to: `<prefix><version><suffix>`, where the version is `scope.generation,…` (0 for a counter
   * never bumped).
   */
  getVersioned(scopes: string[], prefix: string, suffix: string): Promise<VersionedRead>;
  set(key: string, value: string | Buffer, ttlSeconds: number): Promise<void>;
  /** Adds one and returns the new value; a missing key counts from 0. */
  incr(key: string): Promise<number>;
  ping(): Promise<boolean>;
}

export interface MemoryCacheOptions {
  /** What the entries may hold in all, in bytes; beyond it the least recently used go. */
  maxBytes?: number;
}

const DEFAULT_MEMORY_CACHE_BYTES = 64 * 1024 * 1024;

// Each entry costs more than its key and value (the maps and arrays that track it); counting a flat
// amount for that keeps a flood of tiny entries (counters, empty pages) within the budget too.
const ENTRY_OVERHEAD_BYTES = 100;

/** Roughly what an entry keeps alive: JavaScript strings take two bytes a character. */
const entryBytes = (value: string | Buffer, key: string) =>
  ENTRY_OVERHEAD_BYTES + 2 * key.length + (typeof value === 'string' ? 2 * value.length : value.byteLength);

export class MemoryCacheStore implements CacheStore {
  private readonly entries: LRUCache<string, string | Buffer>;

  constructor({ maxBytes = DEFAULT_MEMORY_CACHE_BYTES }: MemoryCacheOptions = {}) {
    this.entries = new LRUCache({
      maxSize: maxBytes,
      sizeCalculation: entryBytes,
      // An expired entry goes when it expires, not when the budget pushes it out: it would otherwise
      // hold its bytes and crowd out live entries. The timers are cheap: Node keeps one list per
      // duration, and the TTLs here are a handful of configured values.
      ttlAutopurge: true,
    });
  }

  get(key: string): Promise<string | null> {
    return Promise.resolve(this.entries.get(key)?.toString() ?? null);
  }

  getVersioned(scopes: string[], prefix: string, suffix: string): Promise<VersionedRead> {
    const version = versionOf(
      scopes,
      scopes.map((scope) => this.entries.get(`gen:${scope}`)?.toString() ?? null),
    );
    const value = this.entries.get(`${prefix}${version}${suffix}`);
    return Promise.resolve({ version, value: value === undefined ? null : Buffer.from(value) });
  }

  set(key: string, value: string | Buffer, ttlSeconds: number): Promise<void> {
    this.entries.set(key, value, { ttl: ttlSeconds * 1000 });
    return Promise.resolve();
  }

  incr(key: string): Promise<number> {
    const next = Number(this.entries.get(key)?.toString() ?? '0') + 1;
    this.entries.set(key, String(next), { ttl: 0 });
    return Promise.resolve(next);
  }

  ping(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

/**
 * `getVersioned` in one round trip. It reads one key not listed in KEYS (the entry), so it suits a
 * single Redis, not Redis Cluster. The version format must match `versionOf`.
 */
const VERSIONED_GET = `
local generations = redis.call('MGET', unpack(KEYS))
local parts = {}
for i = 1, #KEYS do
  parts[i] = ARGV[2 + i] .. '.' .. (generations[i] or '0')
end
local version = table.concat(parts, ',')
return {version, redis.call('GET', ARGV[1] .. version .. ARGV[2])}
`;

type RedisWithVersionedGet = Redis & {
  /** ioredis defines a `…Buffer` twin of every custom command, answering bytes. */
  nexusVersionedGetBuffer(...args: Array<string | number>): Promise<[Buffer, Buffer | null]>;
};

export class RedisCacheStore implements CacheStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    // ioredis sends the script by its SHA (EVALSHA) and loads it again after a Redis restart.
    if (!('nexusVersionedGet' in redis)) redis.defineCommand('nexusVersionedGet', { lua: VERSIONED_GET });
  }

  get(key: string): Promise<string | null> {
    return this.redis.get(this.prefix + key);
  }

  async getVersioned(scopes: string[], prefix: string, suffix: string): Promise<VersionedRead> {
    const [version, value] = await (this.redis as RedisWithVersionedGet).nexusVersionedGetBuffer(
      scopes.length,
      ...scopes.map((scope) => `${this.prefix}gen:${scope}`),
      this.prefix + prefix,
      suffix,
      ...scopes,
    );
    return { version: version.toString(), value };
  }

  async set(key: string, value: string | Buffer, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.prefix + key, value, 'PX', Math.max(1, Math.round(ttlSeconds * 1000)));
  }

  incr(key: string): Promise<number> {
    return this.redis.incr(this.prefix + key);
  }

  ping(): Promise<boolean> {
    return pingRedis(this.redis);
  }
}
