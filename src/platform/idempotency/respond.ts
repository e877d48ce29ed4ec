import { and, eq } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/client.js';
import { transaction, type Tx } from '../db/transaction.js';
import { conflict, fieldError, HttpError } from '../errors/http-errors.js';
import { canonicalPath, IDEMPOTENCY_KEY_HEADER, idempotencyKeyOf, requestFingerprint } from './request.js';
import { idempotencyKeys } from './tables.js';

/** How long a key is kept: a request older than this is forgotten and its key taken as new. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;
/**
 * How long a `running` claim keeps twins out without its holder being seen. The holder locks the
 * row for the whole of its work transaction, so a live holder is never taken over, however slow
 * (a takeover waits for the lock); the lease only decides how soon the claim of a process that died
 * before recording its answer may be taken.
 */
export const IDEMPOTENCY_LEASE_MS = 60 * 1000;

export const REPLAYED_HEADER = 'Idempotent-Replayed';

/** What a route's use case answers: sent as the response, and kept for replays when it commits. */
export interface IdempotentAnswer {
  status: number;
  body: unknown;
}

/** The use case, in its transaction; `key` is the request's `Idempotency-Key` (null without one), e.g. for a history row. */
export type IdempotentWork = (tx: Tx, key: string | null) => Promise<IdempotentAnswer>;

export interface IdempotencyDeps {
  db: Db;
  clock: () => Date;
}

const JSON_TYPE = 'application/json; charset=utf-8';

const differentRequest = () =>
  new HttpError(422, { detail: 'This Idempotency-Key was used with a different request.' });
const inProgress = () => conflict('A request with this Idempotency-Key is in progress.');

type Claim = { kind: 'claimed'; lease: Date } | { kind: 'replay'; status: number; body: string };

/**
 * Runs a POST route's use case at most once per `Idempotency-Key` (SPEC §5) and sends its answer.
 *
 * Without the header: `work` runs in a transaction and its answer is sent. With it, the key is
 * scoped to the signed-in caller and the route (anonymous callers are refused), and:
 * - first request: the key is claimed (`running`) in a statement of its own, so a twin sees it at
 *   once; `work` runs in the use case's transaction, which also records the answer (`done`): the
 *   answer is kept exactly when the effects commit;
 * - the same request again: the first answer (status and body, byte for byte) with
 *   `Idempotent-Replayed: true`; while the first still runs, 409; with another body, 422;
 * - `work` throws (a 400, a 409 out of stock, a 500): its transaction rolled back, so nothing was
 *   written; the claim is released and the client may fix the request and send it again.
 * An answer `work` *returns* is kept whatever its status; one it *throws* never is.
 */
export async function respondIdempotently(
  deps: IdempotencyDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  work: IdempotentWork,
): Promise<FastifyReply> {
  const key = idempotencyKeyOf(request);
  if (key === null) {
    const answer = await transaction(deps.db, (tx) => work(tx, null));
    return sendJson(reply, answer.status, serialise(reply, answer));
  }
  if (!request.principal) throw fieldError(IDEMPOTENCY_KEY_HEADER, 'Sign in to use an Idempotency-Key.');

  const path = canonicalPath(request);
  const scope = `user:${request.principal.userId} ${request.method} ${path}`;
  const fingerprint = requestFingerprint(request.method, path, request.body);
  const claim = await claimKey(deps, scope, key, fingerprint);
  if (claim.kind === 'replay') {
    return sendJson(reply.header(REPLAYED_HEADER, 'true'), claim.status, claim.body);
  }

  const ours = and(
    eq(idempotencyKeys.scope, scope),
    eq(idempotencyKeys.key, key),
    eq(idempotencyKeys.state, 'running'),
    eq(idempotencyKeys.leaseUntil, claim.lease),
  );
  let sent: { status: number; text: string };
  try {
    sent = await transaction(deps.db, async (tx) => {
      // Locked until commit: a twin that finds the lease run out waits for this lock, not runs twice.
      const held = await tx
        .select({ key: idempotencyKeys.key })
        .from(idempotencyKeys)
        .where(ours)
        .for('update');
      if (held.length === 0) throw inProgress();
      const answer = await work(tx, key);
      const text = serialise(reply, answer);
      await tx
        .update(idempotencyKeys)
        .set({ state: 'done', responseStatus: answer.status, responseBody: text })
        .where(ours);
      return { status: answer.status, text };
    });
  } catch (err) {
    // Conditional on our lease: a claim someone else has taken since stays theirs.
    await deps.db
      .delete(idempotencyKeys)
      .where(ours)
      .catch((releaseErr: unknown) =>
        request.log.warn(
          { err: releaseErr },
          'Idempotency-Key claim not released; it expires with its lease',
        ),
      );
    throw err;
  }
  return sendJson(reply, sent.status, sent.text);
}

/** The answer as the route would send it: through its response schema for that status, if it has one. */
function serialise(reply: FastifyReply, answer: IdempotentAnswer): string {
  reply.code(answer.status);
  if (answer.body === undefined) return ''; // e.g. a 204
  const text = reply.serialize(answer.body);
  return typeof text === 'string' ? text : Buffer.from(text as Uint8Array).toString('utf8');
}

function sendJson(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).type(JSON_TYPE).send(text);
}

/**
 * Claims the key for this request, or says what to answer instead. Every change is conditional on
 * the row as it was read, so of concurrent claimants exactly one wins each step; a loser reads again.
 */
async function claimKey(
  deps: IdempotencyDeps,
  scope: string,
  key: string,
  fingerprint: string,
): Promise<Claim> {
  const { db } = deps;
  for (let attempt = 0; attempt < 5; attempt++) {
    const now = deps.clock();
    const lease = new Date(now.getTime() + IDEMPOTENCY_LEASE_MS);
    const claimed = { kind: 'claimed', lease } as const;
    const inserted = await db
      .insert(idempotencyKeys)
      .values({ scope, key, fingerprint, state: 'running', leaseUntil: lease, createdAt: now })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    if (inserted.length > 0) return claimed;

    const [row] = await db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
    if (!row) continue; // released since the insert: try again
    const forgotten = row.createdAt.getTime() < now.getTime() - IDEMPOTENCY_RETENTION_MS;
    if (!forgotten) {
      if (row.fingerprint !== fingerprint) throw differentRequest();
      if (row.state === 'done')
        return { kind: 'replay', status: row.responseStatus!, body: row.responseBody! };
      if (row.leaseUntil.getTime() > now.getTime()) throw inProgress();
    }
    // Forgotten, or left `running` by a process that died: take it over, unless someone did first.
    const taken = await db
      .update(idempotencyKeys)
      .set({
        fingerprint,
        state: 'running',
        leaseUntil: lease,
        createdAt: now,
        responseStatus: null,
        responseBody: null,
      })
      .where(
        and(
          eq(idempotencyKeys.scope, scope),
          eq(idempotencyKeys.key, key),
          eq(idempotencyKeys.state, row.state),
          eq(idempotencyKeys.leaseUntil, row.leaseUntil),
          eq(idempotencyKeys.createdAt, row.createdAt),
        ),
      )
      .returning({ key: idempotencyKeys.key });
    if (taken.length > 0) return claimed;
  }
  // Five rounds lost to concurrent claimants of the same key: one of them is running.
  throw inProgress();
}
