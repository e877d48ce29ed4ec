/**
 * The order workflow, in one table: each status, the moves out of it, and who may make each move.
 * Every move is `UPDATE orders SET status = <to> WHERE id = … AND status = <from>` plus a history
 * row, so of two concurrent moves from one status exactly one wins. The README prints this table.
 */
export const ORDER_STATUSES = [
  'pending',
  'confirmed',
  'processing',
  'shipped',
  'delivered',
  'cancelled',
  'refunded',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * Who may make a move: `customer` (the order's owner, `POST …/cancel/`), `staff` (`POST …/status/`),
 * `system` (payment confirmation, the unpaid-order expiry) and `refund` (only through a refund of
 * the payments module; `status/` refuses it).
 */
export type Mover = 'customer' | 'staff' | 'system' | 'refund';

export const WORKFLOW: Record<OrderStatus, Partial<Record<OrderStatus, readonly Mover[]>>> = {
  pending: { confirmed: ['staff', 'system'], cancelled: ['customer', 'staff', 'system'] },
  confirmed: { processing: ['staff'], cancelled: ['customer', 'staff', 'system'], refunded: ['refund'] },
  processing: { shipped: ['staff'], cancelled: ['staff', 'system'], refunded: ['refund'] },
  shipped: { delivered: ['staff'], refunded: ['refund'] },
  delivered: { refunded: ['refund'] },
  cancelled: {},
  refunded: {},
};

/**
 * The moves that give the stock back: a cancel, and a refund of an order that had not shipped
 * (what was shipped is with the customer; a return is a warehouse's decision, not a refund's).
 */
export const returnsStock = (from: OrderStatus, to: OrderStatus) =>
  to === 'cancelled' || (to === 'refunded' && (from === 'confirmed' || from === 'processing'));

/** The live status stream ends after these (SPEC §5); only a refund follows `delivered`. */
export const STREAM_ENDS_AT: readonly OrderStatus[] = ['delivered', 'cancelled', 'refunded'];

/** The statuses `mover` may move an order to from `from`. */
export function allowedMoves(from: OrderStatus, mover: Mover): OrderStatus[] {
  return (Object.entries(WORKFLOW[from]) as Array<[OrderStatus, readonly Mover[]]>)
    .filter(([, movers]) => movers.includes(mover))
    .map(([to]) => to);
}

export const canMove = (from: OrderStatus, to: OrderStatus, mover: Mover) =>
  WORKFLOW[from][to]?.includes(mover) ?? false;
