import type { AppModule } from '../types.js';
import { createAuthenticator } from './authenticator.js';
import { accountJobs } from './jobs.js';
import { accountMailPreviews } from './mail-previews.js';
import { accountRoutes } from './routes.js';

/** Users, registration and e-mail verification, JWT sessions, password reset, user administration. */
export const accounts: AppModule = {
  name: 'accounts',
  routes: accountRoutes,
  jobs: accountJobs,
  authenticator: createAuthenticator,
  mailPreviews: accountMailPreviews,
};

export { createSuperuser } from './superusers.js';
export { loadTestUsers } from './load-users.js';
// For notifications: whom to write to.
export { activeContacts, activeStaffContacts, type Contact } from './contacts.js';
