/**
 * The in-process event bus (embedded mode, no REDIS_URL): the app's `deps.events` delivers a
 * published message to every subscriber of its channel and no other, as a copy, on a later tick;
 * unsubscribing stops delivery; a failing handler or an unserialisable message never throws into
 * the publisher.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryEventBus } from '../../../src/platform/events/bus.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { waitFor } from '../../helpers/wait.js';
import { silentLog } from './setup.js';

describe('in-process event bus', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ runJobs: false, env: { REDIS_URL: undefined } });
  });
  afterAll(() => t?.close());

  it('is what the app gets without REDIS_URL', () => {
    expect(t.deps.events.kind).toBe('memory');
  });

  it('delivers to the channel’s subscribers only, and stops after unsubscribe', async () => {
    const bus = t.deps.events;
    const a: unknown[] = [];
    const b: unknown[] = [];
    const other: unknown[] = [];
    const offA = await bus.subscribe('order:1', (m) => void a.push(m));
    const offB = await bus.subscribe('order:1', (m) => void b.push(m));
    const offOther = await bus.subscribe('order:2', (m) => void other.push(m));
    const message = { id: 1, to: 'confirmed' };
    await bus.publish('order:1', message);
    // Handlers run on a later tick, never inside the publisher's call.
    expect(a).toEqual([]);
    await waitFor(() => a.length === 1 && b.length === 1);
    expect(a[0]).toEqual(message);
    expect(a[0]).not.toBe(message);
    await offA();
    await offA();
    await bus.publish('order:1', { id: 2 });
    await waitFor(() => b.length === 2);
    expect(a).toHaveLength(1);
    expect(other).toEqual([]);
    await offB();
    await offOther();
  });

  it('never throws into the publisher', async () => {
    const log = silentLog;
    const bus = new MemoryEventBus(log);
    const got: unknown[] = [];
    await bus.subscribe('c', () => {
      throw new Error('handler bug');
    });
    await bus.subscribe('c', () => Promise.reject(new Error('async handler bug')));
    await bus.subscribe('c', (m) => void got.push(m));
    await expect(bus.publish('c', { n: 1 })).resolves.toBeUndefined();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(bus.publish('c', circular)).resolves.toBeUndefined();
    await waitFor(() => got.length === 1);
    await bus.close();
  });
});
