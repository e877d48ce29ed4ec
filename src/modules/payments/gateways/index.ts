import type { PaymentGateway } from '../gateway.js';
import { sandbox } from './sandbox.js';

/** Every gateway this build knows; `PAYMENT_GATEWAYS` says which are enabled. A new one is listed here. */
export const GATEWAYS: ReadonlyMap<string, PaymentGateway> = new Map([[sandbox.name, sandbox]]);

/** The enabled gateways, checked at start-up: a name this build does not know stops the API. */
export function enabledGateways(names: readonly string[]): Map<string, PaymentGateway> {
  const unknown = names.filter((n) => !GATEWAYS.has(n));
  if (unknown.length > 0) {
    throw new Error(
      `PAYMENT_GATEWAYS names unknown gateways (${unknown.join(', ')}); known: ${[...GATEWAYS.keys()].join(', ')}`,
    );
  }
  return new Map(names.map((n) => [n, GATEWAYS.get(n)!]));
}
