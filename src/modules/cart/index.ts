import type { AppModule } from '../types.js';
import { cartRoutes } from './routes.js';

/** The customer's cart: one per user, lines priced from the catalog on every read. */
export const cart: AppModule = {
  name: 'cart',
  routes: cartRoutes,
};

// For checkout (orders), inside its transaction.
export { emptyCart, lockCartForCheckout, type CartForCheckout } from './checkout.js';
// For notifications: the abandoned-cart reminders.
export { cartForReminder, idleCarts, markReminded, type IdleCart } from './reminders.js';
export type { CartView } from './cart-view.js';
