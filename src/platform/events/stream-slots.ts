import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { withTimeout } from '../redis.js';

/** One open stream's place in its owner's allowance. */
export interface StreamSlot {
  /** Keeps the slot alive (the heartbeat calls it); a slot not refreshed within its lifetime lapses. */
  refresh(): Promise<void>;
  /** Gives the slot back; calling it again is harmless. */
  release(): Promise<void>;
}

/** At most `max` open streams per owner (a user id), across every process sharing the store. */
export interface StreamSlots {
  /** A slot, or null when the owner already has `max` open streams. */
  acquire(owner: string): Promise<StreamSlot | null>;
}

/** One process's streams (embedded mode). */
export class MemoryStreamSlots implements StreamSlots {
  private readonly open = new Map<string, Set<string>>();

  constructor(private readonly max: number) {}

  acquire(owner: string): Promise<StreamSlot | null> {
    const ids = this.open.get(owner) ?? new Set<string>();
    if (ids.size >= this.max) return Promise.resolve(null);
    const id = randomUUID();
    ids.add(id);
    this.open.set(owner, ids);
    return Promise.resolve({
      refresh: () => Promise.resolve(),
      release: () => {
        ids.delete(id);
        if (ids.size === 0 && this.open.get(owner) === ids) this.open.delete(owner);
        return Promise.resolve();
      },
    });
  }

  /** Open streams of `owner` (tests). */
  count(owner: string): number {
    return this.open.get(owner)?.size ?? 0;
  }
}

/**
 * Takes a slot if fewer than ARGV[1] live ones: a sorted set per owner, each member a stream whose
 * score is the time its slot lapses. Lapsed members (a process that died without giving its slots
 * back) are dropped first, each on its own clock, so one live stream refreshing the key cannot keep
 * a dead process's slots taken, as it would with a single counter and an expiry.
 */
const ACQUIRE = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowMs)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], nowMs + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
`;

/** Moves the slot's lapse time on (and puts it back if it had lapsed: the stream is still open). */
const REFRESH = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZADD', KEYS[1], nowMs + tonumber(ARGV[2]), ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2])) end
return 1
`;

export interface RedisStreamSlotsOptions {
  redis: Redis;
  prefix: string;
  max: number;
  /** A slot lapses this long after its last refresh (a crashed process's streams come back then). */
  ttlMs: number;
  log: Logger;
  timeoutMs?: number;
}

/**
 * Every process's streams, in Redis under `<prefix>sse:<owner>`. While Redis does not answer, each
 * process counts its own streams (as the throttle does) rather than refusing every stream.
 */
export class RedisStreamSlots implements StreamSlots {
  private readonly fallback: MemoryStreamSlots;
  private readonly timeoutMs: number;

  constructor(private readonly options: RedisStreamSlotsOptions) {
    this.fallback = new MemoryStreamSlots(options.max);
    this.timeoutMs = options.timeoutMs ?? 1000;
  }

  private run(script: string, key: string, ...args: Array<string | number>): Promise<unknown> {
    return withTimeout(this.options.redis.eval(script, 1, key, ...args), this.timeoutMs, 'stream slot');
  }

  async acquire(owner: string): Promise<StreamSlot | null> {
    const { prefix, max, ttlMs, log } = this.options;
    const key = `${prefix}sse:${owner}`;
    const id = randomUUID();
    try {
      if ((await this.run(ACQUIRE, key, max, id, ttlMs)) !== 1) return null;
    } catch (err) {
      log.warn({ err }, 'stream slots: Redis did not answer; counting this process only');
      return this.fallback.acquire(owner);
    }
    let released = false;
    return {
      refresh: async () => {
        if (released) return;
        try {
          await this.run(REFRESH, key, id, ttlMs);
        } catch (err) {
          log.warn({ err }, 'stream slot refresh failed');
        }
      },
      release: async () => {
        if (released) return;
        released = true;
        try {
          await withTimeout(this.options.redis.zrem(key, id), this.timeoutMs, 'stream slot release');
        } catch (err) {
          // The slot lapses on its own after ttlMs.
          log.warn({ err }, 'stream slot release failed');
        }
      },
    };
  }
}
