import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { forbidden, notFound, unauthorized } from './errors/http-errors.js';

/** Who is calling: set on every request by the authenticator the application provides. */
export interface Principal {
  userId: number;
  isStaff: boolean;
}

/** Reads the request's credentials: a principal, null for anonymous, or throws 401 for bad credentials. */
export type Authenticator = (request: FastifyRequest) => Promise<Principal | null>;

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /**
     * The access token may come as `?access_token=` when there is no `Authorization` header (browsers'
     * `EventSource` cannot set headers). The logger redacts the value from every logged URL.
     */
    tokenInQuery?: boolean;
  }
}

/** The `?access_token=` of a route that takes one, as the `Authorization` value it stands for. */
function queryToken(request: FastifyRequest): string | undefined {
  if (!request.routeOptions.config?.tokenInQuery || request.headers.authorization !== undefined) return;
  const token = (request.query as Record<string, unknown> | undefined)?.access_token;
  return typeof token === 'string' && token !== '' ? `Bearer ${token}` : undefined;
}

export const authPlugin = fp(
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app: FastifyInstance, { authenticate }: { authenticate: Authenticator }) => {
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request) => {
      // Synthesised as the header, so the authenticator, `Vary` and `Cache-Control: private` see one credential.
      const fromQuery = queryToken(request);
      if (fromQuery) request.headers.authorization = fromQuery;
      request.principal = await authenticate(request);
    });
  },
  { name: 'auth', dependencies: ['conventions'] },
);

/** Route guard: a signed-in caller, else 401. */
export function requireUser(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized();
  return request.principal;
}

/** Route guard: a staff caller, else 401 (anonymous) or 403. */
export function requireStaff(request: FastifyRequest): Principal {
  const principal = requireUser(request);
  if (!principal.isStaff) throw forbidden();
  return principal;
}

/**
 * The same guards as route hooks: as `preValidation` they run before the body is validated, so an
 * anonymous caller hears 401 (or 404) rather than learning about the body first, as in DRF.
 */
export const signedIn = (request: FastifyRequest) => Promise.resolve(void requireUser(request));
export const staffOnly = (request: FastifyRequest) => Promise.resolve(void requireStaff(request));
/** Staff only, and the route does not exist for anyone else (no probing for ids). */
export const staffElseNotFound = (request: FastifyRequest) => {
  if (!requireUser(request).isStaff) throw notFound();
  return Promise.resolve();
};

/** The anonymous authenticator, for an application without accounts. */
export const anonymous: Authenticator = () => Promise.resolve(null);
