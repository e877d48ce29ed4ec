import type { AppModule } from '../types.js';
import { onOrderMoved } from '../orders/index.js';
import { refundOnCancel } from './cancel-refund.js';
import { GATEWAYS } from './gateways/index.js';
import { paymentRoutes } from './routes.js';

/** Payments through gateways behind one interface: pay, signed webhooks handled once, refunds. */
export const payments: AppModule = {
  name: 'payments',
  routes: paymentRoutes,
  jobs: [...GATEWAYS.values()].flatMap((gateway) => gateway.jobs ?? []),
};

// Once per process, when the module is loaded: the hook registry lives as long as the process.
onOrderMoved(refundOnCancel);

export type { PaymentGateway } from './gateway.js';
