import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { closeRedis, createRedis, withTimeout } from '../redis.js';

/** Called with each message published on a channel it subscribed to; errors are logged, never thrown. */
export type EventHandler = (message: Record<string, unknown>) => void | Promise<void>;

/** Undoes one `subscribe`. Calling it twice is harmless. */
export type Unsubscribe = () => Promise<void>;

/**
 * Messages for live streams (SSE), published after commit. Best effort: a publish that fails is
 * logged and forgotten, since the database (e.g. the order history) is the record and a stream
 * that reconnects replays from it.
 */
export interface EventBus {
  readonly kind: 'memory' | 'redis';
  /** Never rejects: a failure is logged. */
  publish(channel: string, message: object): Promise<void>;
  /** Resolves once messages on `channel` are being received (with Redis: once SUBSCRIBE is acknowledged). */
  subscribe(channel: string, handler: EventHandler): Promise<Unsubscribe>;
  close(): Promise<void>;
}

function deliver(log: Logger, channel: string, handler: EventHandler, message: Record<string, unknown>) {
  try {
    const result = handler(message);
    if (result instanceof Promise) {
      result.catch((err: unknown) => log.error({ err, channel }, 'event handler failed'));
    }
  } catch (err) {
    log.error({ err, channel }, 'event handler failed');
  }
}

/** One process (embedded mode): an EventEmitter; handlers run on a later tick, as with Redis. */
export class MemoryEventBus implements EventBus {
  readonly kind = 'memory';
  private readonly emitter = new EventEmitter();

  constructor(private readonly log: Logger) {
    this.emitter.setMaxListeners(0);
  }

  publish(channel: string, message: object): Promise<void> {
    try {
      const text = JSON.stringify(message);
      setImmediate(() => this.emitter.emit(channel, text));
    } catch (err) {
      this.log.error({ err, channel }, 'event publish failed');
    }
    return Promise.resolve();
  }

  subscribe(channel: string, handler: EventHandler): Promise<Unsubscribe> {
    const listener = (text: string) =>
      deliver(this.log, channel, handler, JSON.parse(text) as Record<string, unknown>);
    this.emitter.on(channel, listener);
    return Promise.resolve(() => {
      this.emitter.off(channel, listener);
      return Promise.resolve();
    });
  }

  close(): Promise<void> {
    this.emitter.removeAllListeners();
    return Promise.resolve();
  }
}

export interface RedisEventBusOptions {
  /** Publishes on it: the process's shared connection. */
  redis: Redis;
  /** For the subscriber connection, made on the first `subscribe` (a subscribing connection can do nothing else). */
  url: string;
  /** Channels are `<prefix>ev:<channel>`, so deployments (and test runs) sharing a Redis stay apart. */
  prefix: string;
  log: Logger;
  /** How long `publish` and `subscribe` wait for Redis. */
  timeoutMs?: number;
}

/**
 * Redis pub/sub: one subscriber connection per process, made lazily, multiplexing every channel
 * this process listens to (one SUBSCRIBE per channel, however many handlers). ioredis reconnects it
 * and subscribes again to every channel; what was published meanwhile is lost (best effort).
 */
export class RedisEventBus implements EventBus {
  readonly kind = 'redis';
  private subscriber: Redis | undefined;
  private readonly handlers = new Map<string, Set<EventHandler>>();
  /** Each channel's SUBSCRIBE, which later handlers of the channel wait for too. */
  private readonly ready = new Map<string, Promise<unknown>>();
  private readonly timeoutMs: number;
  private closed = false;

  constructor(private readonly options: RedisEventBusOptions) {
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  private key(channel: string): string {
    return `${this.options.prefix}ev:${channel}`;
  }

  async publish(channel: string, message: object): Promise<void> {
    try {
      await withTimeout(
        this.options.redis.publish(this.key(channel), JSON.stringify(message)),
        this.timeoutMs,
        'event publish',
      );
    } catch (err) {
      this.options.log.warn({ err, channel }, 'event publish failed; live streams miss this message');
    }
  }

  private connection(): Redis {
    if (this.subscriber) return this.subscriber;
    const { log, prefix } = this.options;
    const subscriber = createRedis(this.options.url, (err) => log.warn({ err }, 'redis subscriber error'), {
      // A SUBSCRIBE sent while Redis is away waits for the reconnection; `subscribe` bounds the wait.
      maxRetriesPerRequest: null,
    });
    subscriber.on('message', (key: string, text: string) => {
      if (!key.startsWith(`${prefix}ev:`)) return;
      const channel = key.slice(prefix.length + 3);
      const handlers = this.handlers.get(channel);
      if (!handlers) return;
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(text) as Record<string, unknown>;
      } catch (err) {
        log.warn({ err, channel }, 'event message is not JSON; dropped');
        return;
      }
      for (const handler of handlers) deliver(log, channel, handler, message);
    });
    this.subscriber = subscriber;
    return subscriber;
  }

  async subscribe(channel: string, handler: EventHandler): Promise<Unsubscribe> {
    if (this.closed) throw new Error('The event bus is closed.');
    // Own copy of the handler, so the same function subscribed twice is two subscriptions.
    const entry: EventHandler = (message) => handler(message);
    const subscriber = this.connection();
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      // Issued synchronously with the change of `handlers`: the connection runs SUBSCRIBE and
      // UNSUBSCRIBE in the order the map changed, so Redis ends up where the map is.
      this.ready.set(channel, subscriber.subscribe(this.key(channel)));
    }
    const ready = this.ready.get(channel)!;
    set.add(entry);
    let done = false;
    const unsubscribe: Unsubscribe = async () => {
      if (done) return;
      done = true;
      const current = this.handlers.get(channel);
      if (!current?.delete(entry) || current.size > 0) return;
      this.handlers.delete(channel);
      this.ready.delete(channel);
      if (this.closed || subscriber.status === 'end') return;
      try {
        await withTimeout(subscriber.unsubscribe(this.key(channel)), this.timeoutMs, 'event unsubscribe');
      } catch (err) {
        this.options.log.warn({ err, channel }, 'event unsubscribe failed');
      }
    };
    try {
      await withTimeout(ready, this.timeoutMs, 'event subscribe');
    } catch (err) {
      await unsubscribe();
      throw err;
    }
    return unsubscribe;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
    this.ready.clear();
    if (this.subscriber) await closeRedis(this.subscriber);
  }
}

export interface EventBusOptions {
  redis: Redis | undefined;
  redisUrl: string | undefined;
  prefix: string;
  log: Logger;
}

/** Redis pub/sub with `REDIS_URL` (every process and host), else one process's memory. */
export function createEventBus(options: EventBusOptions): EventBus {
  if (options.redis && options.redisUrl) {
    return new RedisEventBus({
      redis: options.redis,
      url: options.redisUrl,
      prefix: options.prefix,
      log: options.log,
    });
  }
  return new MemoryEventBus(options.log);
}
