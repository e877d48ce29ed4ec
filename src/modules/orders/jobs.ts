import type { Deps } from '../../platform/deps.js';
import { defineJob } from '../../platform/jobs/registry.js';
import {
  SEND_ORDER_CONFIRMATION,
  SEND_ORDER_STATUS_EMAIL,
  sendOrderConfirmation,
  sendOrderStatusEmail,
} from './emails.js';
import { expiryJobs } from './expiry.js';
import type { OrderStatus } from './workflow.js';

export const orderJobs = [
  defineJob<Deps, { order_id: string }>({
    name: SEND_ORDER_CONFIRMATION,
    description: "E-mail the order's confirmation (lines, totals, addresses), once per order",
    run: ({ order_id }, { deps }) => sendOrderConfirmation(deps, order_id),
  }),
  defineJob<Deps, { order_id: string; status: OrderStatus }>({
    name: SEND_ORDER_STATUS_EMAIL,
    description: 'E-mail the customer that the order shipped, was cancelled or was refunded, once per change',
    run: ({ order_id, status }, { deps }) => sendOrderStatusEmail(deps, order_id, status),
  }),
  ...expiryJobs,
];
