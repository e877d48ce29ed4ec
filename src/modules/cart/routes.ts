import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../platform/deps.js';
import { requireUser, signedIn } from '../../platform/auth.js';
import { errors } from '../../platform/http/schemas.js';
import { addItem } from './add-item.js';
import { applyCoupon, removeCoupon } from './apply-coupon.js';
import { changeItem } from './change-item.js';
import { removeItem } from './remove-item.js';
import { AddItemBody, ApplyCouponBody, CartOut, ChangeItemBody, LineParams } from './schemas.js';
import { viewCart } from './view-cart.js';

const bearer = [{ bearerAuth: [] }];
const doc = (summary: string) => ({ tags: ['cart'], summary, security: bearer });

/** SPEC §5's cart: every answer is the whole cart, priced now. Signed-in callers only (staff too). */
export function cartRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/api/cart/',
    {
      preValidation: signedIn,
      schema: {
        ...doc('The caller’s cart, made on first use, with totals computed from today’s prices'),
        response: { 200: CartOut, ...errors(401, 429) },
      },
    },
    (request) => viewCart(deps, requireUser(request).userId),
  );

  r.post(
    '/api/cart/items/',
    {
      preValidation: signedIn,
      schema: {
        ...doc('Add a variant to the cart (again: adds to its line); answers the whole cart'),
        body: AddItemBody,
        response: { 201: CartOut, ...errors(400, 401, 429) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await addItem(deps, requireUser(request).userId, request.body)),
  );

  r.patch(
    '/api/cart/items/:id/',
    {
      preValidation: signedIn,
      schema: {
        ...doc('Set the quantity of a line of the cart; answers the whole cart'),
        params: LineParams,
        body: ChangeItemBody,
        response: { 200: CartOut, ...errors(400, 401, 404, 429) },
      },
    },
    (request) => changeItem(deps, requireUser(request).userId, request.params.id, request.body.quantity),
  );

  r.delete(
    '/api/cart/items/:id/',
    {
      preValidation: signedIn,
      schema: {
        ...doc('Remove a line from the cart; answers the whole cart'),
        params: LineParams,
        response: { 200: CartOut, ...errors(401, 404, 429) },
      },
    },
    (request) => removeItem(deps, requireUser(request).userId, request.params.id),
  );

  r.post(
    '/api/cart/coupon/',
    {
      preValidation: signedIn,
      schema: {
        ...doc('Apply a coupon to the cart (replacing any); 400 on `code` with the reason it cannot apply'),
        body: ApplyCouponBody,
        response: { 200: CartOut, ...errors(400, 401, 429) },
      },
    },
    (request) => applyCoupon(deps, requireUser(request).userId, request.body.code),
  );

  r.delete(
    '/api/cart/coupon/',
    {
      preValidation: signedIn,
      schema: {
        ...doc('Remove the cart’s coupon; answers the whole cart'),
        response: { 200: CartOut, ...errors(401, 429) },
      },
    },
    (request) => removeCoupon(deps, requireUser(request).userId),
  );

  return Promise.resolve();
}
