import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';

/**
 * Signed tokens, HS256 with SECRET_KEY. Claims follow djangorestframework-simplejwt
 * (`token_type`, `user_id`, `jti`), so clients that read the original's tokens still can.
 */
export type TokenType = 'access' | 'refresh' | 'verify_email';

export interface TokenClaims {
  userId: number;
  jti: string;
  /** Of a verification token: `emailDigest` of its address; it stops working if the e-mail changes. */
  emailDigest?: string;
}

/**
 * What a token carries of an address: a digest of fixed length, case-insensitive as addresses are
 * compared. Not the address itself: a link that grows with the address outgrows the router's limit on
 * a path segment for the longest addresses the schema accepts.
 */
export const emailDigest = (email: string) =>
  createHash('sha256').update(email.toLowerCase()).digest('base64url').slice(0, 22);

export class TokenError extends Error {
  constructor(readonly reason: 'expired' | 'invalid') {
    super(reason === 'expired' ? 'Token has expired' : 'Token is invalid');
    this.name = 'TokenError';
  }
}

export class TokenSigner {
  private readonly key: Uint8Array;

  constructor(secretKey: string) {
    this.key = new TextEncoder().encode(secretKey);
  }

  async sign(
    type: TokenType,
    claims: { userId: number; jti?: string; email?: string },
    now: Date,
    ttlSeconds: number,
  ): Promise<{ token: string; jti: string; expiresAt: Date }> {
    const issuedAt = Math.floor(now.getTime() / 1000);
    const jti = claims.jti ?? randomUUID();
    const payload: JWTPayload = { token_type: type, user_id: claims.userId };
    if (claims.email !== undefined) payload.email_digest = emailDigest(claims.email);
    const token = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ttlSeconds)
      .setJti(jti)
      .sign(this.key);
    return { token, jti, expiresAt: new Date((issuedAt + ttlSeconds) * 1000) };
  }

  /** Checks signature, expiry (against `now`) and type; throws TokenError. */
  async verify(type: TokenType, token: string, now: Date): Promise<TokenClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], currentDate: now }));
    } catch (err) {
      throw new TokenError(err instanceof errors.JWTExpired ? 'expired' : 'invalid');
    }
    const userId = payload.user_id;
    if (payload.token_type !== type || typeof userId !== 'number' || typeof payload.jti !== 'string') {
      throw new TokenError('invalid');
    }
    return {
      userId,
      jti: payload.jti,
      emailDigest: typeof payload.email_digest === 'string' ? payload.email_digest : undefined,
    };
  }
}

/** Tokens are stored only as hashes: a leaked table gives nobody a session. */
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

/** An opaque single-use token (password reset). */
export const randomToken = () => randomBytes(32).toString('base64url');
