import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { and, asc, desc, eq, gt } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { requireUser, signedIn } from '../../platform/auth.js';
import type { Deps } from '../../platform/deps.js';
import { notFound } from '../../platform/errors/http-errors.js';
import { eventStreams, lastEventIdOf, type EventStream } from '../../platform/http/sse.js';
import { errors } from '../../platform/http/schemas.js';
import { UUID_PATTERN } from '../../platform/ids.js';
import { orderChannel } from './live.js';
import { orderHistory, orders, type OrderHistoryRow } from './tables.js';
import { STREAM_ENDS_AT } from './workflow.js';

const Id = Type.Object({ id: Type.String({ maxLength: 100 }) });
const Query = Type.Object({
  access_token: Type.Optional(
    Type.String({
      maxLength: 4096,
      description: 'The access token, for `EventSource` (which cannot send headers). Never logged.',
    }),
  ),
  lastEventId: Type.Optional(
    Type.String({
      maxLength: 64,
      description: 'For clients that cannot send `Last-Event-ID`: the last event id seen.',
    }),
  ),
});

const STREAM_DESCRIPTION = [
  'Server-Sent Events of the order’s status, for its owner and staff (anyone else: 404).',
  'Without `Last-Event-ID` the stream starts with the current status; with it, it first replays the changes after that id, in order.',
  'Each change is `id: <sequence>`, `event: status`, `data: {"order", "from", "to", "at"}`; a comment every 15 s keeps proxies open.',
  'The stream ends after `delivered`, `cancelled` or `refunded`; a reconnect that has seen the final status gets a 204, which stops `EventSource`.',
  'At most 5 open streams per user (429 beyond). The token may come as `?access_token=` for `EventSource`.',
].join(' ');

const wire = (row: OrderHistoryRow) => ({
  order: row.orderId,
  from: row.fromStatus,
  to: row.toStatus,
  at: row.at.toISOString(),
});

const ends = (row: OrderHistoryRow) => STREAM_ENDS_AT.includes(row.toStatus);

/**
 * `GET /api/orders/<id>/events/`. The bus subscription is taken before the history is read, so no
 * change falls between the two; every message from the bus is only a prompt to read the history
 * after the last id sent (the history is the record), which also puts changes published out of
 * order, or twice, back in order and once.
 */
export function orderEventsRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  // SPEC §5's defaults: a comment every 15 s, at most 5 streams per user.
  const streams = eventStreams(app, { redis: deps.redis, prefix: deps.redisPrefix, log: deps.log });
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  const historyAfter = (orderId: string, afterId: number) =>
    deps.db
      .select()
      .from(orderHistory)
      .where(and(eq(orderHistory.orderId, orderId), gt(orderHistory.id, afterId)))
      .orderBy(asc(orderHistory.id));

  r.get(
    '/api/orders/:id/events/',
    {
      preValidation: signedIn,
      config: { tokenInQuery: true },
      schema: {
        tags: ['orders'],
        summary: 'Live status of an order (Server-Sent Events)',
        description: STREAM_DESCRIPTION,
        security: [{ bearerAuth: [] }],
        params: Id,
        querystring: Query,
        response: {
          200: {
            description: 'An event stream (`text/event-stream`).',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          204: {
            description: 'The order reached its final status and the client has seen it.',
            type: 'null',
          },
          ...errors(401, 404, 429),
        },
      },
    },
    async (request, reply) => {
      const principal = requireUser(request);
      if (!UUID_PATTERN.test(request.params.id)) throw notFound();
      const orderId = request.params.id.toLowerCase();
      const [order] = await deps.db
        .select({ userId: orders.userId })
        .from(orders)
        .where(eq(orders.id, orderId));
      if (!order || (!principal.isStaff && order.userId !== principal.userId)) throw notFound();
      const lastEventId = lastEventIdOf(request);

      let stream: EventStream | undefined;
      let lastSent = 0;
      let work: Promise<void> = Promise.resolve();
      /** Runs one step after the other, so rows go out once and in order. */
      const then = (step: () => Promise<void>) => {
        work = work.then(step).catch((err: unknown) => {
          request.log.error({ err }, 'order event stream failed');
          stream?.end();
        });
      };
      const send = (row: OrderHistoryRow) => {
        if (!stream || stream.closed || row.id <= lastSent) return;
        lastSent = row.id;
        stream.send({ id: row.id, event: 'status', data: wire(row) });
        if (ends(row)) stream.end();
      };
      const catchUp = async () => {
        if (!stream || stream.closed) return;
        for (const row of await historyAfter(orderId, lastSent)) send(row);
      };

      const unsubscribe = await deps.events.subscribe(orderChannel(orderId), () => {
        if (stream) then(catchUp);
      });
      let latest: OrderHistoryRow | undefined;
      let resume: number | null;
      try {
        [latest] = await deps.db
          .select()
          .from(orderHistory)
          .where(eq(orderHistory.orderId, orderId))
          .orderBy(desc(orderHistory.id))
          .limit(1);
        if (!latest) throw notFound();
        // An id this order never had (from another order, or made up) counts as none.
        resume = lastEventId !== null && lastEventId <= latest.id ? lastEventId : null;
        if (resume === latest.id && ends(latest)) {
          // It has seen the end: a 204 stops EventSource from reconnecting for ever.
          await unsubscribe();
          return reply.code(204).send(null);
        }
        stream = await streams.open(request, reply, { owner: String(principal.userId) });
      } catch (err) {
        await unsubscribe();
        throw err;
      }
      stream.onClose(() => void unsubscribe());
      if (resume === null) {
        // The current status first; changes made since it was read follow.
        const current = latest;
        then(async () => {
          send(current);
          await catchUp();
        });
      } else {
        lastSent = resume;
        then(catchUp);
      }
    },
  );
  return Promise.resolve();
}
