import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { pingRedis } from '../redis.js';

/** A small key-value cache with expiry: memory in one process, Redis across processes and hosts. */
export interface CacheStore {
  get(key: string): Promise<string | null>;
  getMany(keys: string[]): Promise<Array<string | null>>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Adds one and returns the new value; a missing key counts from 0. */
  incr(key: string): Promise<number>;
  ping(): Promise<boolean>;
}

export class MemoryCacheStore implements CacheStore {
  private readonly entries = new LRUCache<string, string>({ max: 10_000, ttlAutopurge: false });

  get(key: string): Promise<string | null> {
    return Promise.resolve(this.entries.get(key) ?? null);
  }

  getMany(keys: string[]): Promise<Array<string | null>> {
    return Promise.resolve(keys.map((key) => this.entries.get(key) ?? null));
  }

  set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.entries.set(key, value, { ttl: ttlSeconds * 1000 });
    return Promise.resolve();
  }

  incr(key: string): Promise<number> {
    const next = Number(this.entries.get(key) ?? '0') + 1;
    this.entries.set(key, String(next), { ttl: 0 });
    return Promise.resolve(next);
  }

  ping(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

export class RedisCacheStore implements CacheStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  get(key: string): Promise<string | null> {
    return this.redis.get(this.prefix + key);
  }

  async getMany(keys: string[]): Promise<Array<string | null>> {
    if (keys.length === 0) return [];
    return this.redis.mget(keys.map((key) => this.prefix + key));
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.prefix + key, value, 'PX', Math.max(1, Math.round(ttlSeconds * 1000)));
  }

  incr(key: string): Promise<number> {
    return this.redis.incr(this.prefix + key);
  }

  ping(): Promise<boolean> {
    return pingRedis(this.redis);
  }
}
