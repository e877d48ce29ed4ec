import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { CacheStore } from './store.js';

export interface CachePolicy {
  /** What the response is made of; a write to any of them makes it stale (`invalidate`). */
  scopes: string[];
  ttlSeconds: number;
  /** Who may see this response: `public`, `staff`, `user:42`… Never shared across audiences. */
  audience: string;
}

/**
 * Whole-response cache for lists. Keys hold the full URL, the audience and the current
 * generation of each scope, so bumping a generation makes every affected entry unreachable
 * at once, on every process sharing the store.
 */
export class ResponseCache {
  constructor(
    private readonly store: CacheStore,
    private readonly enabled: boolean,
    private readonly log: Logger,
  ) {}

  /** Never rejects: a cache that is down cannot hold stale entries for long (the TTL), and the write stands. */
  async invalidate(...scopes: string[]): Promise<void> {
    await this.safely(() => Promise.all(scopes.map((scope) => this.store.incr(`gen:${scope}`))));
  }

  /** Sends the cached body (`X-Cache: HIT`) or computes, serializes with the route's schema, stores and sends it. */
  async serve(
    request: FastifyRequest,
    reply: FastifyReply,
    policy: CachePolicy,
    compute: () => Promise<unknown>,
  ): Promise<string | Buffer> {
    reply.type('application/json; charset=utf-8');
    if (!this.enabled || policy.ttlSeconds <= 0) {
      reply.header('x-cache', 'MISS');
      return reply.serialize(await compute()) as string;
    }
    const suffix = `:${policy.audience}:${request.url}`;
    const read = await this.safely(() => this.store.getVersioned(policy.scopes, ENTRY_PREFIX, suffix));
    if (read?.value) {
      const entry = unpack(read.value);
      reply.header('etag', entry.etag);
      reply.header('x-cache', 'HIT');
      return entry.body;
    }
    const body = reply.serialize(await compute()) as string;
    const etag = etagOf(body);
    const entry = Buffer.from(`${etag}\n${body}`);
    if (read)
      await this.safely(() =>
        this.store.set(`${ENTRY_PREFIX}${read.version}${suffix}`, entry, policy.ttlSeconds),
      );
    reply.header('etag', etag);
    reply.header('x-cache', 'MISS');
    return entry.subarray(etag.length + 1);
  }

  /** A cache that is down means a miss, never a failed request. */
  private async safely<T>(op: () => Promise<T>): Promise<T | null> {
    try {
      return await op();
    } catch (err) {
      this.log.warn({ err }, 'cache unavailable; serving without it');
      return null;
    }
  }
}

/**
 * The ETag @fastify/etag would compute (SHA-1, base64, strong). The cache computes it once when it
 * stores a body and keeps it beside it, so a hit is not hashed again; the plugin leaves a reply
 * that already has an ETag alone, and still answers `If-None-Match` with 304.
 */
const etagOf = (body: string) => `"${createHash('sha1').update(body).digest('base64')}"`;

/**
 * Entries are `"<etag>"\n<body>`, kept as bytes so a hit goes to the socket as stored. The prefix
 * names that format: entries of another format (an older version still running during a rolling
 * deploy, whose entries were the body alone) live under other keys, and neither version reads
 * the other's.
 */
const ENTRY_PREFIX = 'resp.v2:';
const NEWLINE = 0x0a;

function unpack(value: Buffer): { etag: string; body: Buffer } {
  const newline = value.indexOf(NEWLINE);
  return { etag: value.toString('latin1', 0, newline), body: value.subarray(newline + 1) };
}
