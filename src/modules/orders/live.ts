import type { Tx } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import type { OrderHistoryRow } from './tables.js';

/** The channel of one order's live status. */
export const orderChannel = (orderId: string) => `order:${orderId}`;

/** What a status change looks like on the live stream; `id` is the history row's, the SSE event id. */
export interface StatusEvent {
  id: number;
  order: string;
  from: string | null;
  to: string;
  at: string;
}

export const statusEvent = (row: OrderHistoryRow): StatusEvent => ({
  id: row.id,
  order: row.orderId,
  from: row.fromStatus,
  to: row.toStatus,
  at: row.at.toISOString(),
});

/**
 * Published after commit, so a stream never shows a change that rolled back. Not awaited: the
 * history is the record (a stream that missed an event replays it), and an answer must not wait on
 * a Redis that is slow or down.
 */
export function announceStatus(deps: Deps, tx: Tx, row: OrderHistoryRow): void {
  tx.afterCommit(() => void deps.events.publish(orderChannel(row.orderId), statusEvent(row)));
}
