import { describe, expect, it } from 'vitest';
import { MemoryCacheStore } from '../../src/platform/cache/store.js';

const MiB = 1024 * 1024;
const KiB = 1024;

/** Which of `keys` the store still answers, and the bytes of their values as JavaScript holds them. */
async function kept(store: MemoryCacheStore, keys: string[]) {
  const present: string[] = [];
  let bytes = 0;
  for (const key of keys) {
    const value = await store.get(key);
    if (value === null) continue;
    present.push(key);
    bytes += 2 * value.length;
  }
  return { present, bytes };
}

describe('MemoryCacheStore byte budget', () => {
  it('filled with large entries far past its budget, it keeps the most recent ones within it', async () => {
    const store = new MemoryCacheStore({ maxBytes: 4 * MiB });
    // 256 entries of 64 KiB (as strings of 32 Ki characters): 16 MiB offered in all.
    const keys = Array.from({ length: 256 }, (_, i) => `resp:${i}`);
    for (const key of keys) await store.set(key, key.padEnd(32 * KiB, '.'), 3600);

    const { present, bytes } = await kept(store, keys);
    expect(bytes).toBeLessThanOrEqual(4 * MiB);
    // Still a cache, not an empty one: the newest entries, up to the budget, are there.
    expect(present.length).toBeGreaterThan(32);
    expect(present).toEqual(keys.slice(-present.length));
    expect((await store.get(keys.at(-1)!))?.length).toBe(32 * KiB);
  });

  it('counts Buffers (response bodies) by their bytes', async () => {
    const store = new MemoryCacheStore({ maxBytes: 2 * MiB });
    const keys = Array.from({ length: 100 }, (_, i) => `body:${i}`);
    for (const key of keys) await store.set(key, Buffer.alloc(100 * KiB, 'x'), 3600);
    // One byte a character here, so half of what `kept` counts.
    const { present, bytes } = await kept(store, keys);
    expect(bytes / 2).toBeLessThanOrEqual(2 * MiB);
    expect(present.length).toBeGreaterThan(10);
  });

  it('refuses an entry larger than the whole budget without evicting the others', async () => {
    const store = new MemoryCacheStore({ maxBytes: MiB });
    await store.set('small', 'kept', 3600);
    await store.set('huge', Buffer.alloc(2 * MiB), 3600);
    expect(await store.get('huge')).toBeNull();
    expect(await store.get('small')).toBe('kept');
  });
});
