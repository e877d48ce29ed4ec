import { asc, eq } from 'drizzle-orm';
import type { Deps } from '../../platform/deps.js';
import { cartView, type CartHead, type CartView, type LineRow } from './cart-view.js';
import { cartHead } from './carts.js';
import { cartLines, carts } from './tables.js';

/**
 * `GET /api/cart/`: the caller's cart, made on first use. Two queries whatever the number of lines:
 * the cart with its lines (one join), then their variants. No transaction: a read that races a
 * write sees the lines of one moment and the prices of the next, which the next read corrects.
 */
export async function viewCart(deps: Deps, userId: number): Promise<CartView> {
  const rows = await deps.db
    .select({
      id: carts.id,
      couponId: carts.couponId,
      updatedAt: carts.updatedAt,
      lineId: cartLines.id,
      variantId: cartLines.variantId,
      quantity: cartLines.quantity,
    })
    .from(carts)
    .leftJoin(cartLines, eq(cartLines.cartId, carts.id))
    .where(eq(carts.userId, userId))
    .orderBy(asc(cartLines.createdAt), asc(cartLines.id));
  const first = rows[0];
  if (!first) {
    const made = await createCart(deps, userId);
    // Null: a concurrent first request made it (and may have added a line already); read that one.
    return made ? cartView(deps, deps.db, made, []) : viewCart(deps, userId);
  }
  const lines: LineRow[] = [];
  for (const r of rows) {
    if (r.lineId !== null && r.variantId !== null && r.quantity !== null)
      lines.push({ id: r.lineId, variantId: r.variantId, quantity: r.quantity });
  }
  return cartView(
    deps,
    deps.db,
    { id: first.id, userId, couponId: first.couponId, updatedAt: first.updatedAt },
    lines,
  );
}

/** The first use: a new empty cart, or null when a concurrent request has just made it. */
async function createCart(deps: Deps, userId: number): Promise<CartHead | null> {
  const now = deps.clock();
  const [made] = await deps.db
    .insert(carts)
    .values({ userId, createdAt: now, updatedAt: now })
    .onConflictDoNothing({ target: carts.userId })
    .returning(cartHead);
  return made ?? null;
}
