import { randomInt } from 'node:crypto';

/** Crockford-like: no 0/O, 1/I/L or U, so a number read over the phone is not misheard. */
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';

/** `NX-7KQ2M9`: short and human-readable; 30⁶ (729 million) values, so a clash is rare and retried. */
export function newOrderNumber(): string {
  let code = '';
  for (let i = 0; i < 6; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return `NX-${code}`;
}
