import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../platform/deps.js';
import type { JobDefinition } from '../../platform/jobs/registry.js';
import type { NextAction } from './tables.js';

/** The event types a gateway's webhook may carry (SPEC §6). */
export const EVENT_TYPES = ['payment.succeeded', 'payment.failed', 'refund.succeeded'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** A webhook event once its signature is verified, in the shape the handling understands. */
export interface GatewayEvent {
  id: string;
  type: EventType;
  /** The gateway's id of the payment (or, for `refund.succeeded`, of the refund). */
  reference: string;
  amount: string;
  currency: string;
}

export type VerifiedWebhook =
  | { ok: true; event: GatewayEvent; payload: unknown }
  | { ok: false; reason: 'signature' }
  | { ok: false; reason: 'malformed'; detail: string };

/**
 * What the payments module needs of a payment provider. A new provider is one file implementing
 * this, listed in `gateways/index.ts`; orders and the rest of payments do not change.
 */
export interface PaymentGateway {
  name: string;
  /** Starts a payment; returns the gateway's reference and what the customer must do next. */
  createPayment(
    deps: Deps,
    payment: { orderId: string; amount: string; currency: string },
  ): Promise<{ reference: string; nextAction: NextAction }>;
  /**
   * Gives money back; resolves once the gateway accepted it, rejects if it refused. `refundKey` is
   * the provider's idempotency key: the same refund retried (after a rollback) has the same key, so
   * the provider refunds once and answers the same refund again.
   */
  refund(
    deps: Deps,
    refund: { paymentReference: string; refundKey: string; amount: string; currency: string },
  ): Promise<{ reference: string }>;
  /** Checks the signature over the raw body (before anything is parsed or read) and reads the event. */
  verifyWebhook(deps: Deps, rawBody: Buffer, headers: IncomingHttpHeaders): VerifiedWebhook;
  /** Routes of the gateway's own (the sandbox's bank), and the jobs they use. */
  routes?: (app: FastifyInstance, deps: Deps) => Promise<void>;
  jobs?: Array<JobDefinition<Deps>>;
}
