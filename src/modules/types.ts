import type { FastifyInstance } from 'fastify';
import type { Deps } from '../platform/deps.js';
import type { Authenticator } from '../platform/auth.js';
import type { JobDefinition } from '../platform/jobs/registry.js';

/** A business module as the application sees it: its routes, its jobs and its start-up work. */
export interface AppModule {
  name: string;
  routes?: (app: FastifyInstance, deps: Deps) => Promise<void>;
  jobs?: Array<JobDefinition<Deps>>;
  /** The module that knows users provides the request authenticator. */
  authenticator?: (deps: Deps) => Authenticator;
  /** Runs once when the API starts, after migrations (e.g. demo data). */
  onStart?: (deps: Deps) => Promise<void>;
}
