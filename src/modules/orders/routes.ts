import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { requireStaff, requireUser, signedIn, staffOnly } from '../../platform/auth.js';
import { transaction } from '../../platform/db/transaction.js';
import { respondIdempotently } from '../../platform/idempotency/index.js';
import type { Deps } from '../../platform/deps.js';
import { conflict, notFound, type HttpError } from '../../platform/errors/http-errors.js';
import { absentBodyIsEmpty } from '../../platform/http/conventions.js';
import { errors } from '../../platform/http/schemas.js';
import { listQuerySchema, pageSchema } from '../../platform/list/index.js';
import { orderEventsRoutes } from './events.js';
import { moveOrder, type Move, type MoveOutcome } from './move-status.js';
import { orderView } from './order-view.js';
import { placeOrder } from './place-order.js';
import { listOrders, orderListSpec, orderVisibleTo } from './read.js';
import {
  BadMoveBody,
  CancelBody,
  OrderOut,
  PlaceOrderBody,
  CheckoutConflictBody,
  StatusBody,
} from './schemas.js';

const bearer = [{ bearerAuth: [] }];
const Id = Type.Object({ id: Type.String({ maxLength: 100 }) });

/** A refused move as SPEC §5 says: 409 naming the moves allowed from where the order is. */
function refusal(outcome: Exclude<MoveOutcome, { ok: true }>, to: string): HttpError {
  if (outcome.reason === 'not_found') return notFound();
  return conflict(`Cannot move an order from ${outcome.from} to ${to}.`, { allowed: outcome.allowed });
}

export function orderRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  /** A move through the workflow, then the order as it is now. */
  const move = (m: Move) =>
    transaction(deps.db, async (tx) => {
      const outcome = await moveOrder(deps, tx, m);
      if (!outcome.ok) throw refusal(outcome, m.to);
      return (await orderView(tx, m.orderId))!;
    });

  r.post(
    '/api/orders/',
    {
      preValidation: signedIn,
      schema: {
        tags: ['orders'],
        summary: 'Check out the cart, or the `items` given, as one order',
        description:
          "Stock is taken in the order's transaction: an order that cannot be filled is refused whole (409, every short variant named). Takes an `Idempotency-Key` header.",
        security: bearer,
        body: PlaceOrderBody,
        response: { 201: OrderOut, ...errors(400, 401, 422, 429), 409: CheckoutConflictBody },
      },
    },
    async (request, reply) => {
      const { userId } = requireUser(request);
      return respondIdempotently(deps, request, reply, async (tx, idempotencyKey) => ({
        status: 201,
        body: await placeOrder(deps, tx, { userId, input: request.body, idempotencyKey }),
      }));
    },
  );

  r.get(
    '/api/orders/',
    {
      preValidation: signedIn,
      schema: {
        tags: ['orders'],
        summary: "Orders: a customer's own, or every order for staff",
        security: bearer,
        querystring: listQuerySchema(orderListSpec(true)),
        response: { 200: pageSchema(OrderOut), ...errors(400, 401, 404, 429) },
      },
    },
    (request) => listOrders(deps, request, requireUser(request)),
  );

  r.get(
    '/api/orders/:id/',
    {
      preValidation: signedIn,
      schema: {
        tags: ['orders'],
        summary: 'One order, with its lines and history',
        security: bearer,
        params: Id,
        response: { 200: OrderOut, ...errors(401, 404, 429) },
      },
    },
    (request) => orderVisibleTo(deps.db, requireUser(request), request.params.id),
  );

  r.post(
    '/api/orders/:id/cancel/',
    {
      preValidation: [signedIn, absentBodyIsEmpty],
      schema: {
        tags: ['orders'],
        summary: 'Cancel an order (its owner, while pending or confirmed); the stock comes back',
        security: bearer,
        params: Id,
        body: CancelBody,
        response: { 200: OrderOut, ...errors(400, 401, 404, 429), 409: BadMoveBody },
      },
    },
    async (request) => {
      const principal = requireUser(request);
      const order = await orderVisibleTo(deps.db, principal, request.params.id);
      const mover = order.user === principal.userId ? 'customer' : 'staff';
      return move({
        orderId: order.id,
        to: 'cancelled',
        mover,
        actorId: principal.userId,
        reason: request.body.reason,
      });
    },
  );

  r.post(
    '/api/orders/:id/status/',
    {
      preValidation: staffOnly,
      schema: {
        tags: ['orders'],
        summary: 'Move an order along the workflow (staff)',
        description: '`refunded` is reached only through a refund of the payment.',
        security: bearer,
        params: Id,
        body: StatusBody,
        response: { 200: OrderOut, ...errors(400, 401, 403, 404, 429), 409: BadMoveBody },
      },
    },
    async (request) => {
      const principal = requireStaff(request);
      const order = await orderVisibleTo(deps.db, principal, request.params.id);
      return move({
        orderId: order.id,
        to: request.body.status,
        mover: 'staff',
        actorId: principal.userId,
        reason: request.body.reason,
      });
    },
  );

  return orderEventsRoutes(app, deps);
}
