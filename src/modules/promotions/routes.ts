import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { staffOnly } from '../../platform/auth.js';
import type { Deps } from '../../platform/deps.js';
import { errors } from '../../platform/http/schemas.js';
import { listQuerySchema, pageSchema } from '../../platform/list/index.js';
import {
  couponListSpec,
  couponView,
  createCoupon,
  deleteCoupon,
  findCoupon,
  listCoupons,
  schemaErrorsOf,
  updateCoupon,
} from './coupons.js';
import { CouponBody, CouponOut, CouponParams, CouponPatch } from './schemas.js';

const doc = (summary: string) => ({ tags: ['coupons'], summary, security: [{ bearerAuth: [] }] });

/** SPEC §6's coupons: staff only, reads included (customers 403, anonymous 401). */
export function couponRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/api/coupons/',
    {
      preValidation: staffOnly,
      schema: {
        ...doc('Coupons (staff)'),
        querystring: listQuerySchema(couponListSpec),
        response: { 200: pageSchema(CouponOut), ...errors(400, 401, 403, 404, 429) },
      },
    },
    (request) => listCoupons(deps, request),
  );

  r.get(
    '/api/coupons/:id/',
    {
      preValidation: staffOnly,
      schema: {
        ...doc('One coupon (staff)'),
        params: CouponParams,
        response: { 200: CouponOut, ...errors(401, 403, 404, 429) },
      },
    },
    async (request) => couponView(await findCoupon(deps, request.params.id)),
  );

  r.post(
    '/api/coupons/',
    {
      preValidation: staffOnly,
      attachValidation: true,
      schema: {
        ...doc('Create a coupon (staff)'),
        body: CouponBody,
        response: { 201: CouponOut, ...errors(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      const schemaErrors = schemaErrorsOf(request);
      return reply.code(201).send(couponView(await createCoupon(deps, request.body, schemaErrors)));
    },
  );

  for (const method of ['put', 'patch'] as const) {
    r[method](
      '/api/coupons/:id/',
      {
        preValidation: staffOnly,
        attachValidation: true,
        schema: {
          ...doc(method === 'put' ? 'Replace a coupon (staff)' : 'Edit a coupon (staff)'),
          params: CouponParams,
          body: method === 'put' ? CouponBody : CouponPatch,
          response: { 200: CouponOut, ...errors(400, 401, 403, 404, 429) },
        },
      },
      async (request) => {
        const coupon = await findCoupon(deps, request.params.id);
        return couponView(await updateCoupon(deps, coupon, request.body, schemaErrorsOf(request)));
      },
    );
  }

  r.delete(
    '/api/coupons/:id/',
    {
      preValidation: staffOnly,
      schema: {
        ...doc('Delete a coupon no order has used (staff); 409 otherwise: deactivate it instead'),
        params: CouponParams,
        response: { 204: Type.Null(), ...errors(401, 403, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      await deleteCoupon(deps, await findCoupon(deps, request.params.id));
      return reply.code(204).send(null);
    },
  );

  return Promise.resolve();
}
