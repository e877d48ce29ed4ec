import type { AppModule } from '../types.js';
import { abandonedCartJobs } from './abandoned-carts.js';
import { lowStockJobs } from './low-stock.js';
import { notificationMailPreviews } from './mail-previews.js';

/**
 * Periodic notifications: abandoned-cart reminders and low-stock alerts. Reads carts, variants and
 * users through their modules' faces; nothing depends on this module.
 */
export const notifications: AppModule = {
  name: 'notifications',
  jobs: (config) => [...abandonedCartJobs(config), ...lowStockJobs(config)],
  mailPreviews: notificationMailPreviews,
};
