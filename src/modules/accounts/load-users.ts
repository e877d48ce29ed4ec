import { randomBytes } from 'node:crypto';
import type { Deps } from '../../platform/deps.js';
import { hashPassword } from './passwords.js';
import { users } from './tables.js';
import { TokenSigner } from './tokens.js';

/**
 * Verified accounts made in bulk, each with an access token valid for `ttlSeconds`, for load runs
 * (`npm run bench`): many buyers without a sign-in each. Their password is random and thrown away,
 * so no one can sign in as them; the tokens are ordinary access tokens.
 */
export async function loadTestUsers(
  deps: Deps,
  count: number,
  { staff = false, ttlSeconds = 3600 }: { staff?: boolean; ttlSeconds?: number } = {},
): Promise<Array<{ id: number; token: string }>> {
  const tag = randomBytes(4).toString('hex');
  const password = await hashPassword(randomBytes(24).toString('base64url'));
  const rows = await deps.db
    .insert(users)
    .values(
      Array.from({ length: count }, (_, i) => ({
        username: `load_${tag}_${i}`,
        email: `load_${tag}_${i}@load.invalid`,
        password,
        isVerified: true,
        isStaff: staff,
      })),
    )
    .returning({ id: users.id });
  const signer = new TokenSigner(deps.config.secretKey);
  return Promise.all(
    rows.map(async ({ id }) => ({
      id,
      token: (await signer.sign('access', { userId: id }, deps.clock(), ttlSeconds)).token,
    })),
  );
}
