import { accounts } from './accounts/index.js';
import { cart } from './cart/index.js';
import { catalog } from './catalog/index.js';
import { notifications } from './notifications/index.js';
import { orders } from './orders/index.js';
import { payments } from './payments/index.js';
import { promotions } from './promotions/index.js';
import type { AppModule } from './types.js';

/** Every business module, in the order their routes are registered. */
export const modules: AppModule[] = [accounts, catalog, promotions, cart, orders, payments, notifications];
