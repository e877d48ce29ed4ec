import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { HttpError } from '../errors/http-errors.js';
import {
  MemoryStreamSlots,
  RedisStreamSlots,
  type StreamSlot,
  type StreamSlots,
} from '../events/stream-slots.js';

/** One Server-Sent Event: `id:`, `event:` and `data:` (always JSON, so always one line). */
export interface SseEvent {
  id?: number | string;
  event?: string;
  data: unknown;
}

/**
 * Why a stream ended: the route ended it, the client went away, the server is shutting down,
 * or the client read too slowly and its unsent events passed the buffer budget.
 */
export type StreamEndReason = 'end' | 'client' | 'shutdown' | 'slow';

export interface EventStream {
  /** Writes an event; false when the stream is closed (or closes now, the client being too slow). */
  send(event: SseEvent): boolean;
  /** Ends the stream (idempotent). */
  end(): void;
  readonly closed: boolean;
  /** Resolves once the stream has ended, whichever way. */
  readonly finished: Promise<StreamEndReason>;
  /** Runs `listener` when the stream ends (at once if it has). */
  onClose(listener: (reason: StreamEndReason) => void): void;
}

export interface EventStreamsOptions {
  /** With Redis the per-user limit holds across every process; without, per process. */
  redis: Redis | undefined;
  prefix: string;
  log: Logger;
  /** Open streams per owner (user); one more is a 429. Default 5. */
  maxPerOwner?: number;
  /** A comment line this often keeps proxies from closing an idle stream, and the slot alive. Default 15 s. */
  heartbeatMs?: number;
  /** Bytes a slow client may leave unread before its stream is closed (it reconnects and replays). Default 256 KiB. */
  maxBufferBytes?: number;
  /** Sent as `retry:` first: how long EventSource waits before reconnecting. Default: the browser's. */
  retryMs?: number;
}

export interface OpenOptions {
  /** Counted against this owner's limit (e.g. the user id); omitted: not counted. */
  owner?: string;
}

export interface EventStreams {
  /**
   * Takes over the reply and sends the SSE headers. Throws (before anything is sent) a 429 when the
   * owner has too many streams open, and a 503 when the server is shutting down.
   */
  open(request: FastifyRequest, reply: FastifyReply, options?: OpenOptions): Promise<EventStream>;
  /** Streams open in this process. */
  readonly size: number;
}

export const tooManyStreams = (max: number) =>
  new HttpError(429, {
    detail: `Too many open event streams: at most ${max} per user. Close one and try again.`,
  });

const LINE_BREAK = /[\r\n]/;

/** The wire form of one event. */
export function formatEvent(event: SseEvent): string {
  let frame = '';
  if (event.id !== undefined) {
    const id = String(event.id);
    if (LINE_BREAK.test(id) || id.includes('\0'))
      throw new TypeError('An SSE id may not hold line breaks or NUL.');
    frame += `id: ${id}\n`;
  }
  if (event.event !== undefined) {
    if (LINE_BREAK.test(event.event)) throw new TypeError('An SSE event name may not hold line breaks.');
    frame += `event: ${event.event}\n`;
  }
  // JSON escapes line breaks inside strings; splitting anyway keeps the frame sound whatever the data.
  const json = JSON.stringify(event.data ?? null);
  for (const line of json.split(/\r\n|\r|\n/)) frame += `data: ${line}\n`;
  return `${frame}\n`;
}

const EVENT_ID = /^\d{1,15}$/;

function parseId(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return EVENT_ID.test(trimmed) ? Number(trimmed) : null;
}

/**
 * The last event a reconnecting client saw: the `Last-Event-ID` header (EventSource sends it), else
 * the `lastEventId` query parameter (for clients that cannot set headers). A number, or null when
 * absent or not a non-negative integer.
 */
export function lastEventIdOf(request: FastifyRequest): number | null {
  const fromHeader = parseId(request.headers['last-event-id']);
  if (fromHeader !== null) return fromHeader;
  const query = request.query as Record<string, unknown> | undefined;
  return parseId(query?.lastEventId);
}

/**
 * Server-Sent Events for the routes of `app`'s scope. Streams end on `end()`, when the client goes
 * away, and when the application closes (its preClose), so an open stream never keeps
 * `app.close()` waiting; every way of ending gives the owner's slot back.
 */
export function eventStreams(app: FastifyInstance, options: EventStreamsOptions): EventStreams {
  const max = options.maxPerOwner ?? 5;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxBufferBytes = options.maxBufferBytes ?? 256 * 1024;
  const slots: StreamSlots = options.redis
    ? new RedisStreamSlots({
        redis: options.redis,
        prefix: options.prefix,
        max,
        // Three missed heartbeats, and at least 30 s: a crashed process's slots come back then.
        ttlMs: Math.max(3 * heartbeatMs, 30_000),
        log: options.log,
      })
    : new MemoryStreamSlots(max);
  const open = new Set<LiveStream>();
  let closing = false;

  app.addHook('preClose', (done) => {
    closing = true;
    for (const stream of [...open]) stream.end('shutdown');
    done();
  });

  return {
    get size() {
      return open.size;
    },
    async open(request, reply, { owner } = {}) {
      if (closing) throw new HttpError(503, { detail: 'The server is shutting down. Try again.' });
      let slot: StreamSlot | null = null;
      if (owner !== undefined) {
        slot = await slots.acquire(owner);
        if (!slot) throw tooManyStreams(max);
      }
      if (closing) {
        await slot?.release();
        throw new HttpError(503, { detail: 'The server is shutting down. Try again.' });
      }
      const stream = new LiveStream(reply, slot, { heartbeatMs, maxBufferBytes, log: request.log });
      if (request.raw.destroyed || reply.raw.destroyed) {
        // The client left while the slot was being taken.
        reply.hijack();
        stream.end('client');
        return stream;
      }
      open.add(stream);
      stream.onClose(() => open.delete(stream));
      stream.start(options.retryMs);
      return stream;
    },
  };
}

class LiveStream implements EventStream {
  closed = false;
  readonly finished: Promise<StreamEndReason>;
  private resolveFinished!: (reason: StreamEndReason) => void;
  private reason: StreamEndReason | undefined;
  private readonly listeners: Array<(reason: StreamEndReason) => void> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly reply: FastifyReply,
    private readonly slot: StreamSlot | null,
    private readonly options: { heartbeatMs: number; maxBufferBytes: number; log: FastifyRequest['log'] },
  ) {
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  start(retryMs: number | undefined): void {
    const { reply } = this;
    const res = reply.raw;
    reply.hijack();
    // Headers the hooks set so far (request id, CORS, security headers) go out too.
    const headers: OutgoingHttpHeaders = {
      ...(reply.getHeaders() as OutgoingHttpHeaders),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      // Ends the connection with the stream, so a closing server has no socket left to wait for.
      connection: 'close',
    };
    delete headers['content-length'];
    res.writeHead(200, headers);
    res.flushHeaders();
    res.on('close', () => this.end('client'));
    res.on('error', () => this.end('client'));
    if (retryMs !== undefined) res.write(`retry: ${retryMs}\n\n`);
    this.timer = setInterval(() => this.heartbeat(), this.options.heartbeatMs);
    this.timer.unref();
  }

  private heartbeat(): void {
    if (this.closed) return;
    const res = this.reply.raw;
    // A client that has not read the last heartbeat needs no other; the slot stays alive either way.
    if (!res.writableNeedDrain) res.write(':\n\n');
    this.slot?.refresh().catch(() => undefined);
  }

  send(event: SseEvent): boolean {
    if (this.closed) return false;
    const frame = formatEvent(event);
    const res = this.reply.raw;
    if (res.writableLength + frame.length > this.options.maxBufferBytes) {
      this.options.log.info(
        { unsent: res.writableLength },
        'event stream closed: the client reads too slowly (it reconnects and replays)',
      );
      this.end('slow');
      return false;
    }
    res.write(frame);
    return true;
  }

  end(reason: StreamEndReason = 'end'): void {
    if (this.closed) return;
    this.closed = true;
    this.reason = reason;
    clearInterval(this.timer);
    const res = this.reply.raw;
    if (reason === 'slow' || reason === 'client') res.destroy();
    else if (!res.writableEnded) res.end();
    this.slot?.release().catch(() => undefined);
    for (const listener of this.listeners.splice(0)) {
      try {
        listener(reason);
      } catch (err) {
        this.options.log.error({ err }, 'event stream close listener failed');
      }
    }
    this.resolveFinished(reason);
  }

  onClose(listener: (reason: StreamEndReason) => void): void {
    if (this.reason !== undefined) listener(this.reason);
    else this.listeners.push(listener);
  }
}
