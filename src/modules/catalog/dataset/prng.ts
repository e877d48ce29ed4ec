import { createHash } from 'node:crypto';

/** A seeded pseudo-random generator: the same seed string always gives the same sequence. */
export interface Prng {
  /** Unsigned 32-bit integer. */
  u32(): number;
  /** [0, 1) with 32 bits of randomness. */
  float(): number;
  /** [0, 1) with 53 bits of randomness. */
  float53(): number;
  /** Integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(probability: number): boolean;
  /** A version 4 UUID (RFC 9562 layout) made from the stream, so ids are reproducible too. */
  uuid(): string;
}

const TWO_32 = 4294967296;
const TWO_53 = 9007199254740992;

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), its 128-bit state taken from the
 * SHA-256 of the seed string. Not for secrets: only for reproducible test and demo data.
 */
export function createPrng(seed: string): Prng {
  const digest = createHash('sha256').update(seed, 'utf8').digest();
  let a = digest.readUInt32LE(0);
  let b = digest.readUInt32LE(4);
  let c = digest.readUInt32LE(8);
  let d = digest.readUInt32LE(12);

  const u32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Let the state mix before the first value is used.
  for (let i = 0; i < 20; i++) u32();

  const float = () => u32() / TWO_32;
  const hex8 = () => u32().toString(16).padStart(8, '0');

  return {
    u32,
    float,
    float53: () => ((u32() >>> 5) * 67108864 + (u32() >>> 6)) / TWO_53,
    int: (lo, hi) => lo + Math.floor(float() * (hi - lo + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(float() * items.length)]!,
    chance: (probability) => float() < probability,
    uuid: () => {
      const h = hex8() + hex8() + hex8() + hex8();
      const variant = '89ab'[parseInt(h[16]!, 16) & 3]!;
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20)}`;
    },
  };
}
