import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { Deps } from '../platform/deps.js';
import type { MailMessage } from '../platform/mail/mailer.js';
import type { Authenticator } from '../platform/auth.js';
import type { JobDefinition } from '../platform/jobs/registry.js';

/** A business module as the application sees it: its routes, its jobs and its start-up work. */
export interface AppModule {
  name: string;
  routes?: (app: FastifyInstance, deps: Deps) => Promise<void>;
  /** Its jobs; a function when schedules come from the configuration. */
  jobs?: Array<JobDefinition<Deps>> | ((config: Config) => Array<JobDefinition<Deps>>);
  /** The module that knows users provides the request authenticator. */
  authenticator?: (deps: Deps) => Authenticator;
  /** A sample of each of its e-mails, rendered with made-up data (`mail:preview`). */
  mailPreviews?: (config: Config) => Array<{ name: string; message: MailMessage }>;
  /** Runs once when the API starts, after migrations (e.g. demo data). */
  onStart?: (deps: Deps) => Promise<void>;
}
