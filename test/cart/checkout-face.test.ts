/**
 * Issue 9 (what the cart offers checkout): `lockCartForCheckout` locks the cart row and returns its
 * lines (null without a cart); `emptyCart` removes them and moves `updated_at`. On PostgreSQL, two
 * checkouts of one cart take turns, and the second finds the cart empty; a cart write waits for a
 * checkout in progress.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyCart, lockCartForCheckout } from '../../src/modules/cart/index.js';
import { queryRows } from '../../src/platform/db/client.js';
import { transaction } from '../../src/platform/db/transaction.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { waitFor } from '../helpers/wait.js';
import { cartClient, makeVariant, setVariant } from './fixtures.js';

const postgres = Boolean(process.env.DATABASE_URL);

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

/** A customer whose cart holds two lines (2 × a, 3 × b). */
async function filledCart() {
  const { user, headers } = await signedInUser(t.app, t.deps);
  const cart = cartClient(t.app, headers);
  const a = (await makeVariant(t.deps)).variant;
  const b = (await makeVariant(t.deps)).variant;
  await cart.add(a.id, 2);
  const body = (await cart.add(b.id, 3)).json();
  return { user, cart, a, b, body };
}

describe('lockCartForCheckout and emptyCart', () => {
  it('returns null for a user without a cart', async () => {
    const { user } = await signedInUser(t.app, t.deps);
    expect(await transaction(t.deps.db, (tx) => lockCartForCheckout(tx, user.id))).toBeNull();
  });

  it('returns the cart’s lines in the order they were added', async () => {
    const { user, a, b, body } = await filledCart();
    const locked = await transaction(t.deps.db, (tx) => lockCartForCheckout(tx, user.id));
    expect(locked).toEqual({
      cartId: body.id,
      couponId: null,
      lines: [
        { lineId: body.items[0].id, variantId: a.id, quantity: 2 },
        { lineId: body.items[1].id, variantId: b.id, quantity: 3 },
      ],
    });
  });

  it('returns lines that are no longer for sale too (checkout decides about them)', async () => {
    const { user, a } = await filledCart();
    await setVariant(t.deps, a.id, { isActive: false });
    const locked = await transaction(t.deps.db, (tx) => lockCartForCheckout(tx, user.id));
    expect(locked?.lines.map((l) => l.variantId)).toContain(a.id);
  });

  it('emptyCart removes the lines, keeps the cart and moves updated_at', async () => {
    const { user, cart, body } = await filledCart();
    await new Promise((r) => setTimeout(r, 5));
    await transaction(t.deps.db, async (tx) => {
      const locked = await lockCartForCheckout(tx, user.id);
      await emptyCart(tx, locked!.cartId);
    });
    const after = (await cart.get()).json();
    expect(after).toMatchObject({ id: body.id, items: [], subtotal: '0.00', item_count: 0 });
    expect(Date.parse(after.updated_at)).toBeGreaterThan(Date.parse(body.updated_at));
  });

  it('emptyCart takes the time to record', async () => {
    const { user, cart } = await filledCart();
    const at = new Date('2030-01-02T03:04:05.678Z');
    await transaction(t.deps.db, async (tx) =>
      emptyCart(tx, (await lockCartForCheckout(tx, user.id))!.cartId, at),
    );
    expect((await cart.get()).json().updated_at).toBe(at.toISOString());
  });

  it('a rolled-back checkout leaves the cart as it was', async () => {
    const { user, cart, body } = await filledCart();
    await expect(
      transaction(t.deps.db, async (tx) => {
        await emptyCart(tx, (await lockCartForCheckout(tx, user.id))!.cartId);
        throw new Error('short of stock');
      }),
    ).rejects.toThrow('short of stock');
    expect((await cart.get()).json()).toEqual(body);
  });
});

describe.skipIf(!postgres)(
  'checkouts that overlap (PostgreSQL only: PGlite runs one transaction at a time, so nothing can wait)',
  () => {
    /** Sessions of this database waiting for a lock. */
    const waiting = async () =>
      (
        await queryRows<{ n: number }>(
          t.deps.db,
          sql`SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        )
      )[0]!.n;

    /** A checkout that locks the cart, holds the lock until `release()`, then empties it and commits. */
    function holdCheckout(userId: number) {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let locked!: (lines: number) => void;
      const isLocked = new Promise<number>((r) => (locked = r));
      const done = transaction(t.deps.db, async (tx) => {
        const cart = await lockCartForCheckout(tx, userId);
        locked(cart!.lines.length);
        await released;
        await emptyCart(tx, cart!.cartId);
      });
      return { isLocked, release, done };
    }

    it('the second of two checkouts waits, then finds the cart empty', async () => {
      const { user } = await filledCart();
      const first = holdCheckout(user.id);
      expect(await first.isLocked).toBe(2);
      const second = transaction(t.deps.db, (tx) => lockCartForCheckout(tx, user.id));
      await waitFor(async () => (await waiting()) === 1, 10_000, 'the second checkout to wait');
      first.release();
      await first.done;
      expect((await second)?.lines).toEqual([]);
    });

    it('an add waits for a checkout in progress and lands in the emptied cart', async () => {
      const { user, cart, a } = await filledCart();
      const checkout = holdCheckout(user.id);
      await checkout.isLocked;
      const add = cart.add(a.id, 1);
      await waitFor(async () => (await waiting()) === 1, 10_000, 'the add to wait');
      checkout.release();
      await checkout.done;
      const res = await add;
      expect(res.statusCode).toBe(201);
      expect(res.json().items).toEqual([expect.objectContaining({ quantity: 1 })]);
    });
  },
);
