import type { FastifyInstance } from 'fastify';
import type { ParsedMail } from 'mailparser';
import type { Deps } from '../../src/deps.js';
import { hashPassword } from '../../src/modules/accounts/passwords.js';
import { users, type User } from '../../src/modules/accounts/tables.js';

export const PASSWORD = 'Correct-Horse-Battery-9';

let counter = 0;

/** A user written straight to the database (verified and active unless told otherwise). */
export async function makeUser(
  deps: Deps,
  fields: Partial<
    Pick<
      User,
      'username' | 'email' | 'isVerified' | 'isActive' | 'isStaff' | 'isSuperuser' | 'firstName' | 'lastName'
    >
  > & {
    password?: string;
  } = {},
): Promise<User> {
  counter++;
  const username = fields.username ?? `user${counter}_${Math.random().toString(36).slice(2, 8)}`;
  const [user] = await deps.db
    .insert(users)
    .values({
      username,
      email: fields.email ?? `${username}@example.com`,
      password: await hashPassword(fields.password ?? PASSWORD),
      firstName: fields.firstName ?? 'Test',
      lastName: fields.lastName ?? 'User',
      isVerified: fields.isVerified ?? true,
      isActive: fields.isActive ?? true,
      isStaff: fields.isStaff ?? false,
      isSuperuser: fields.isSuperuser ?? false,
    })
    .returning();
  return user!;
}

export async function tokensFor(app: FastifyInstance, login: string, password = PASSWORD) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/token/',
    payload: { username: login, password },
  });
  if (res.statusCode !== 200) throw new Error(`sign-in as ${login} failed: ${res.statusCode} ${res.body}`);
  return res.json<{ access: string; refresh: string }>();
}

export const bearer = (access: string) => ({ authorization: `Bearer ${access}` });

/** A signed-in user of each kind the permission tests need. */
export async function signedInUser(
  app: FastifyInstance,
  deps: Deps,
  fields: Parameters<typeof makeUser>[1] = {},
) {
  const user = await makeUser(deps, fields);
  const tokens = await tokensFor(app, user.username);
  return { user, ...tokens, headers: bearer(tokens.access) };
}

/** The first link in a message's text part that starts with `prefix`. */
export function linkIn(mail: ParsedMail, prefix: string): string {
  const link = (mail.text ?? '').split(/\s+/).find((word) => word.startsWith(prefix));
  if (!link) throw new Error(`no link starting with ${prefix} in:\n${mail.text}`);
  return link;
}
