/**
 * Issue 9, acceptance 4: 20 concurrent requests with one key, spread over two API instances on one
 * database, run the use case once. Every answer is the first 201, its replay, or the 409 of a
 * request in progress.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { createProbeApp, keyRows, post, probeRows } from './probe.js';

const postgres = Boolean(process.env.DATABASE_URL);
const IN_PROGRESS = JSON.stringify({ detail: 'A request with this Idempotency-Key is in progress.' });

describe.skipIf(!postgres)('concurrent requests with one key', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await createProbeApp();
    b = await createProbeApp({ database: a.database });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it.each([1, 2, 3, 4, 5])(
    'round %i: 20 requests over two instances give exactly one row (PostgreSQL only: PGlite runs one transaction at a time)',
    async (round) => {
      const key = `race-${round}`;
      const body = { label: `race ${round}`, tags: { round } };
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => post(i % 2 === 0 ? a.app : b.app, body, { key })),
      );

      const rows = (await probeRows(a.deps)).filter((r) => r.idempotency_key === key);
      expect(rows).toHaveLength(1);
      const firsts = answers.filter((r) => r.statusCode === 201 && !r.headers['idempotent-replayed']);
      expect(firsts).toHaveLength(1);
      const first = firsts[0]!;
      const { idempotency_key: _key, ...row } = rows[0]!;
      expect(first.json()).toEqual({ ...row, created: true });
      for (const answer of answers) {
        const kind =
          answer === first
            ? 'first'
            : answer.statusCode === 201 &&
                answer.headers['idempotent-replayed'] === 'true' &&
                answer.body === first.body
              ? 'replay'
              : answer.statusCode === 409 && answer.body === IN_PROGRESS
                ? 'in progress'
                : `unexpected ${answer.statusCode} ${answer.body}`;
        expect(['first', 'replay', 'in progress']).toContain(kind);
      }
      const [record] = await keyRows(a.deps, key);
      expect(record).toMatchObject({ state: 'done', responseStatus: 201, responseBody: first.body });

      const later = await post(b.app, body, { key });
      expect(later.headers['idempotent-replayed']).toBe('true');
      expect(later.body).toBe(first.body);
    },
  );
});
