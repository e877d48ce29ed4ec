/**
 * An `Idempotency-Key` is 1 to 255 printable ASCII characters; anything else is a 400 on the
 * header, before anything runs or is kept.
 */
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { createProbeApp, keyRows, post, probeRows } from './probe.js';

let t: TestApp;
beforeAll(async () => {
  t = await createProbeApp();
});
afterAll(() => t.close());

it.each([
  ['256 characters', 'k'.repeat(256), 'Ensure this field has no more than 255 characters.'],
  ['an empty value', '', 'This field may not be blank.'],
  ['a tab', 'tab\there', 'Only printable ASCII characters are allowed.'],
  ['a DEL character', 'del\x7f', 'Only printable ASCII characters are allowed.'],
  ['a non-ASCII character', 'clé', 'Only printable ASCII characters are allowed.'],
])('refuses %s with a 400 on the header', async (_what, key, message) => {
  const res = await post(t.app, { label: 'refused' }, { key });
  expect(res.statusCode).toBe(400);
  expect(res.json()).toEqual({ 'Idempotency-Key': [message] });
  expect(await probeRows(t.deps)).toEqual([]);
  expect(await keyRows(t.deps)).toEqual([]);
});

it('refuses a control character sent over the wire with a 4xx, before any route runs', async () => {
  // Node's HTTP parser refuses it (400) ahead of the route; Node's client would not even send it.
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  const response = await new Promise<string>((resolve, reject) => {
    let text = '';
    const socket = connect(port, '127.0.0.1', () =>
      socket.end(
        'POST /probe/items/ HTTP/1.1\r\nHost: 127.0.0.1\r\nx-probe-user: 1\r\nIdempotency-Key: a\x01b\r\n' +
          'Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
      ),
    );
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  expect(response).toMatch(/^HTTP\/1\.1 4\d\d /);
  expect(await keyRows(t.deps)).toEqual([]);
});

it('accepts 255 printable characters, spaces and punctuation included', async () => {
  const key = `${'a'.repeat(241)} ~!@#$%^&*()_+`;
  expect(key).toHaveLength(255);
  const res = await post(t.app, { label: 'accepted' }, { key });
  expect(res.statusCode).toBe(201);
  const again = await post(t.app, { label: 'accepted' }, { key });
  expect(again.headers['idempotent-replayed']).toBe('true');
  expect(await keyRows(t.deps, key)).toHaveLength(1);
});
