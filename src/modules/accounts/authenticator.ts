import { eq } from 'drizzle-orm';
import type { Deps } from '../../platform/deps.js';
import type { Authenticator } from '../../platform/auth.js';
import { unauthorized } from '../../platform/errors/http-errors.js';
import { users } from './tables.js';
import { TokenSigner } from './tokens.js';

const notValid = () => unauthorized('Given token not valid for any token type', { code: 'token_not_valid' });

/**
 * `Authorization: Bearer <access token>`. Expired, tampered and wrong-type tokens, and tokens of
 * deactivated or deleted users, are a 401 `token_not_valid`. Other schemes are left alone (anonymous).
 */
export function createAuthenticator(deps: Deps): Authenticator {
  const signer = new TokenSigner(deps.config.secretKey);
  return async (request) => {
    const header = request.headers.authorization;
    if (!header) return null;
    const [scheme, token, extra] = header.trim().split(/\s+/);
    if (scheme?.toLowerCase() !== 'bearer') return null;
    if (!token || extra !== undefined) throw notValid();
    let userId: number;
    try {
      ({ userId } = await signer.verify('access', token, deps.clock()));
    } catch {
      throw notValid();
    }
    const [user] = await deps.db
      .select({ id: users.id, isActive: users.isActive, isStaff: users.isStaff })
      .from(users)
      .where(eq(users.id, userId));
    if (!user?.isActive) throw notValid();
    return { userId: user.id, isStaff: user.isStaff };
  };
}
