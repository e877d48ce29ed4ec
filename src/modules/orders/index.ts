import type { AppModule } from '../types.js';
import { orderJobs } from './jobs.js';
import { orderMailPreviews } from './mail-previews.js';
import { orderRoutes } from './routes.js';

/** Checkout, the order workflow and its history, order e-mails and the live status stream. */
export const orders: AppModule = {
  name: 'orders',
  routes: orderRoutes,
  jobs: orderJobs,
  mailPreviews: orderMailPreviews,
};

export { moveOrder, onOrderMoved, type Move, type MoveHook, type MoveOutcome } from './move-status.js';
export { lockOrderForPayment, type OrderToPay } from './payment-face.js';
export { orderVisibleTo } from './read.js';
export { ORDER_STATUSES, WORKFLOW, allowedMoves, canMove, type Mover, type OrderStatus } from './workflow.js';
