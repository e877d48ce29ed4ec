import { eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import type { Deps } from '../../platform/deps.js';
import type { Principal } from '../../platform/auth.js';
import { uniqueViolationToFieldErrors } from '../../platform/db/errors.js';
import { transaction } from '../../platform/db/transaction.js';
import { badRequest, forbidden, notFound } from '../../platform/errors/http-errors.js';
import { booleanFilter } from '../../platform/list/filters.js';
import { countAll, listPage, type ListSpec } from '../../platform/list/list-query.js';
import { USER_TAKEN } from './registration.js';
import type { ProfilePatch, StaffPatch } from './schemas.js';
import { users, type User } from './tables.js';
import { revokeAllSessions } from './sessions.js';
import { findUserById, staffView } from './users.js';

export const userListSpec: ListSpec = {
  filters: {
    is_verified: booleanFilter('Only verified (true) or unverified (false) users.', (v) =>
      eq(users.isVerified, v),
    ),
    is_active: booleanFilter('Only active (true) or deactivated (false) users.', (v) =>
      eq(users.isActive, v),
    ),
  },
  searchFields: [users.username, users.email, users.firstName, users.lastName],
  ordering: { username: users.username, email: users.email, id: users.id },
  defaultOrdering: 'username',
  tieBreaker: users.id,
};

export function listUsers(deps: Deps, request: FastifyRequest) {
  return listPage(request, userListSpec, {
    count: async (q) => (await deps.db.select({ count: countAll }).from(users).where(q.where))[0]!.count,
    rows: async (q) =>
      (
        await deps.db
          .select()
          .from(users)
          .where(q.where)
          .orderBy(...q.orderBy)
          .limit(q.limit)
          .offset(q.offset)
      ).map(staffView),
  });
}

/** Staff see any user; anyone else only themselves. Anything else, or a malformed id, is a 404. */
export async function userVisibleTo(deps: Deps, principal: Principal, rawId: string): Promise<User> {
  if (!/^\d{1,9}$/.test(rawId)) throw notFound();
  const id = Number(rawId);
  if (!principal.isStaff && principal.userId !== id) throw notFound();
  const user = await findUserById(deps.db, id);
  if (!user) throw notFound();
  return user;
}

type ProfileChanges = Static<typeof ProfilePatch>;
type StaffChanges = Static<typeof StaffPatch>;

async function applyChanges(deps: Deps, user: User, changes: StaffChanges): Promise<User> {
  const now = deps.clock();
  try {
    return await transaction(deps.db, async (tx) => {
      const [updated] = await tx
        .update(users)
        .set({
          username: changes.username,
          firstName: changes.first_name,
          lastName: changes.last_name,
          phone: changes.phone,
          isActive: changes.is_active,
          isVerified: changes.is_verified,
          isStaff: changes.is_staff,
          updatedAt: now,
        })
        .where(eq(users.id, user.id))
        .returning();
      if (changes.is_active === false) await revokeAllSessions(tx, user.id, now);
      return updated!;
    });
  } catch (err) {
    return uniqueViolationToFieldErrors(err, USER_TAKEN);
  }
}

/** A user edits their own profile. */
export function updateProfile(deps: Deps, user: User, changes: ProfileChanges): Promise<User> {
  return applyChanges(deps, user, changes);
}

/**
 * Staff edit a user. Accounts are deactivated (`is_active: false`, which ends their sessions), never
 * deleted: orders and payments keep pointing at them. Only a superuser grants or removes staff rights,
 * or changes another superuser.
 */
export async function updateUserAsStaff(deps: Deps, actor: Principal, user: User, changes: StaffChanges) {
  const actorIsSuperuser = (await findUserById(deps.db, actor.userId))?.isSuperuser ?? false;
  if (user.isSuperuser && !actorIsSuperuser) throw forbidden('Only a superuser can change a superuser.');
  if (changes.is_staff !== undefined && changes.is_staff !== user.isStaff && !actorIsSuperuser) {
    throw forbidden('Only a superuser can change staff status.');
  }
  if (changes.is_active === false && actor.userId === user.id) {
    throw badRequest({ is_active: ['You cannot deactivate your own account.'] });
  }
  return applyChanges(deps, user, changes);
}
