import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addProductImage, INVALID_IMAGE, MAX_IMAGE_BYTES, NO_FILE } from '../src/modules/catalog/images.js';
import { productImages, products } from '../src/modules/catalog/tables.js';
import { signedInUser } from './helpers/accounts.js';
import { createTestApp, type TestApp } from './helpers/app.js';

/**
 * SPEC §4 images: staff upload a product image as multipart; the original bytes and a WebP
 * thumbnail are stored under DATA_DIR/media and served from /media/ with immutable cache headers.
 * Multipart bodies go over real HTTP (Node's FormData and fetch), as a browser would send them.
 */

const IMMUTABLE = 'public, max-age=31536000, immutable';
const SECRET = 'the-development-secret-key-that-must-never-be-served';

describe('product images (SPEC §4)', () => {
  let t: TestApp;
  let base: string;
  let staff: Record<string, string>;
  let customer: Record<string, string>;
  let productId: string;
  let png: Buffer;
  let jpeg: Buffer;

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'nexus-images-'));
    t = await createTestApp({ env: { DATA_DIR: dataDir } });
    expect(t.config.dataDir).toBe(dataDir);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    staff = (await signedInUser(t.app, t.deps, { isStaff: true })).headers;
    customer = (await signedInUser(t.app, t.deps)).headers;
    const [product] = await t.deps.db
      .insert(products)
      .values({ name: 'Lamp', slug: 'lamp', sku: 'LAMP-1', price: '9.99' })
      .returning();
    productId = product!.id;
    // What development keeps beside the media folder, and must never leak through /media/.
    writeFileSync(path.join(t.config.dataDir, 'secret_key'), SECRET);

    png = await sharp({
      create: { width: 800, height: 600, channels: 3, background: { r: 200, g: 40, b: 90 } },
    })
      .png()
      .toBuffer();
    jpeg = await sharp({
      create: { width: 300, height: 500, channels: 3, background: { r: 10, g: 120, b: 240 } },
    })
      .jpeg()
      .toBuffer();
  });
  afterAll(() => t.close());

  const form = (
    file?: { bytes: Buffer; name: string; type: string; field?: string },
    fields: Record<string, string> = {},
  ) => {
    const data = new FormData();
    if (file) data.append(file.field ?? 'image', new Blob([file.bytes], { type: file.type }), file.name);
    for (const [name, value] of Object.entries(fields)) data.append(name, value);
    return data;
  };

  const upload = async (
    body: FormData | string | undefined,
    headers: Record<string, string> = staff,
    product = productId,
  ) => {
    const res = await fetch(`${base}/api/products/${product}/images/`, { method: 'POST', headers, body });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  };

  const get = async (url: string) => {
    const res = await fetch(`${base}${new URL(url, base).pathname}`);
    return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
  };

  /** A GET whose path is sent exactly as written (fetch and URL would resolve the dot segments). */
  const rawGet = (rawPath: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const port = (t.app.server.address() as AddressInfo).port;
      http
        .get({ host: '127.0.0.1', port, path: rawPath }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        })
        .on('error', reject);
    });

  const mediaFile = (url: string) =>
    path.join(t.config.dataDir, decodeURIComponent(new URL(url).pathname).replace(/^\//, ''));

  it('Image upload: a PNG is stored and its thumbnail served; a non-image or an oversized file → 400/413', async () => {
    const res = await upload(
      form({ bytes: png, name: 'lamp.png', type: 'image/png' }, { alt_text: 'A lamp' }),
    );
    expect(res.status).toBe(201);
    const image = res.body;
    expect(Object.keys(image).sort()).toEqual(
      ['alt_text', 'created_at', 'height', 'id', 'image', 'position', 'product', 'thumbnail', 'width'].sort(),
    );
    expect(image).toMatchObject({
      product: productId,
      alt_text: 'A lamp',
      width: 800,
      height: 600,
      position: 0,
    });
    expect(image.image).toBe(`${t.config.siteUrl}/media/products/${productId}/${image.id}.png`);
    expect(image.thumbnail).toBe(`${t.config.siteUrl}/media/products/${productId}/${image.id}-thumb.webp`);
    expect(new Date(image.created_at).toISOString()).toBe(image.created_at);

    // The product's own view lists it, with the same URLs.
    const detail = await t.app.inject({ method: 'GET', url: `/api/products/${productId}/` });
    expect(detail.json().images).toEqual([image]);

    // On disk: the original bytes as sent, and the thumbnail; no temporary files left behind.
    expect(await readFile(mediaFile(image.image))).toEqual(png);
    expect(existsSync(mediaFile(image.thumbnail))).toBe(true);
    expect(readdirSync(path.dirname(mediaFile(image.image))).sort()).toEqual(
      [`${image.id}-thumb.webp`, `${image.id}.png`].sort(),
    );

    // The thumbnail: WebP within 320×320, cacheable for good.
    const thumb = await get(image.thumbnail);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    expect(thumb.headers.get('cache-control')).toBe(IMMUTABLE);
    const meta = await sharp(thumb.bytes).metadata();
    expect(meta.format).toBe('webp');
    expect(meta.width).toBeLessThanOrEqual(320);
    expect(meta).toMatchObject({ width: 320, height: 240 });

    // The original, byte for byte.
    const original = await get(image.image);
    expect(original.status).toBe(200);
    expect(original.headers.get('content-type')).toBe('image/png');
    expect(original.headers.get('cache-control')).toBe(IMMUTABLE);
    expect(original.bytes.equals(png)).toBe(true);
    // Storefronts on other origins may show it; browsers must not sniff another type.
    expect(original.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(original.headers.get('x-content-type-options')).toBe('nosniff');
    const head = await fetch(new URL(new URL(image.image).pathname, base), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(png.length));

    // A text file dressed up as a PNG.
    const evil = await upload(
      form({ bytes: Buffer.from('<?php echo "hi"; ?>\n'), name: 'evil.png', type: 'image/png' }),
    );
    expect(evil).toMatchObject({ status: 400, body: { image: [INVALID_IMAGE] } });

    // Over the limit (a valid PNG header followed by padding: the size alone decides).
    const big = Buffer.concat([png, randomBytes(MAX_IMAGE_BYTES + 1 - png.length + 1024)]);
    const tooLarge = await upload(form({ bytes: big, name: 'big.png', type: 'image/png' }));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toEqual({ detail: expect.stringContaining('10 MiB') });

    // Neither of the refused uploads left a row or a file.
    expect(await t.deps.db.select().from(productImages)).toHaveLength(1);
    expect(readdirSync(path.dirname(mediaFile(image.image)))).toHaveLength(2);
  });

  it('accepts a JPEG whatever its name says, and appends it after the others', async () => {
    const res = await upload(form({ bytes: jpeg, name: 'photo.gif', type: 'application/octet-stream' }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ width: 300, height: 500, alt_text: '' });
    expect(res.body.image).toMatch(/\.jpg$/);
    expect(res.body.position).toBeGreaterThan(0);
    const original = await get(res.body.image);
    expect(original.headers.get('content-type')).toBe('image/jpeg');
    expect(original.bytes.equals(jpeg)).toBe(true);
    // Smaller than the thumbnail box: never enlarged.
    const thumb = await sharp((await get(res.body.thumbnail)).bytes).metadata();
    expect(thumb).toMatchObject({ format: 'webp', width: 192, height: 320 });
  });

  it('refuses a truncated image, a missing file and a body that is not a form', async () => {
    const truncated = await upload(
      form({ bytes: png.subarray(0, 200), name: 'half.png', type: 'image/png' }),
    );
    expect(truncated).toMatchObject({ status: 400, body: { image: [INVALID_IMAGE] } });

    expect(await upload(form(undefined, { alt_text: 'nothing' }))).toMatchObject({
      status: 400,
      body: { image: [NO_FILE] },
    });
    expect(await upload(form({ bytes: png, name: 'a.png', type: 'image/png', field: 'file' }))).toMatchObject(
      {
        status: 400,
        body: { image: [NO_FILE] },
      },
    );
    expect(await upload(undefined)).toMatchObject({ status: 400, body: { image: [NO_FILE] } });

    const json = await upload(JSON.stringify({ image: 'x' }), {
      ...staff,
      'content-type': 'application/json',
    });
    expect(json).toMatchObject({
      status: 415,
      body: { detail: 'Unsupported media type "application/json" in request.' },
    });

    // Broken multipart: no boundary, or a body that ends in the middle of a part.
    const noBoundary = await upload('x', { ...staff, 'content-type': 'multipart/form-data' });
    expect(noBoundary).toMatchObject({
      status: 400,
      body: { detail: expect.stringMatching(/^Multipart form parse error/) },
    });
    const cut = await upload(
      '--abc\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\npartial',
      { ...staff, 'content-type': 'multipart/form-data; boundary=abc' },
    );
    expect(cut).toMatchObject({
      status: 400,
      body: { detail: expect.stringMatching(/^Multipart form parse error/) },
    });

    const longAlt = await upload(
      form({ bytes: png, name: 'a.png', type: 'image/png' }, { alt_text: 'x'.repeat(256) }),
    );
    expect(longAlt).toMatchObject({ status: 400, body: { alt_text: [expect.any(String)] } });
  });

  it('is for staff only; an unknown or malformed product id is a 404', async () => {
    const body = () => form({ bytes: png, name: 'lamp.png', type: 'image/png' });
    expect(await upload(body(), {})).toMatchObject({
      status: 401,
      body: { detail: 'Authentication credentials were not provided.' },
    });
    expect(await upload(body(), customer)).toMatchObject({
      status: 403,
      body: { detail: 'You do not have permission to perform this action.' },
    });
    const NOT_FOUND = { status: 404, body: { detail: 'Not found.' } };
    expect(await upload(body(), staff, '00000000-0000-4000-8000-000000000000')).toMatchObject(NOT_FOUND);
    expect(await upload(body(), staff, 'not-a-uuid')).toMatchObject(NOT_FOUND);

    // A soft-deleted product takes no more images.
    const [gone] = await t.deps.db
      .insert(products)
      .values({ name: 'Gone', slug: 'gone', sku: 'GONE-1', price: '1.00', deletedAt: new Date() })
      .returning();
    expect(await upload(body(), staff, gone!.id)).toMatchObject(NOT_FOUND);
  });

  it('serves nothing outside the media folder, and unknown files are 404s', async () => {
    for (const probe of [
      '/media/../secret_key',
      '/media/%2e%2e/secret_key',
      '/media/%2E%2E/secret_key',
      '/media/products/..%2f..%2fsecret_key',
      '/media/products/%2e%2e/%2e%2e/secret_key',
      '/media//secret_key',
      '/media/products/00000000-0000-4000-8000-000000000000/missing.png',
      '/media/',
      '/media/products/',
    ]) {
      const res = await rawGet(probe);
      expect(res.status, probe).toBe(404);
      expect(JSON.parse(res.body), probe).toEqual({ detail: 'Not found.' });
    }
  });

  it('removes the stored files when the row cannot be written', async () => {
    const failingDb = new Proxy(t.deps.db, {
      get: (target, key, receiver) =>
        key === 'transaction'
          ? () => Promise.reject(new Error('database went away'))
          : Reflect.get(target, key, receiver),
    });
    const folder = path.join(t.config.dataDir, 'media', 'products', productId);
    const before = readdirSync(folder).sort();
    await expect(
      addProductImage({ ...t.deps, db: failingDb }, productId, { bytes: png, altText: '' }),
    ).rejects.toThrow('database went away');
    expect(readdirSync(folder).sort()).toEqual(before);
  });

  it('deletes an image: its row and both files go; a second delete is a 404', async () => {
    const { body: image } = await upload(form({ bytes: png, name: 'lamp.png', type: 'image/png' }));
    const url = `${base}/api/products/${productId}/images/${image.id}/`;
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(401);
    expect((await fetch(url, { method: 'DELETE', headers: customer })).status).toBe(403);

    const res = await fetch(url, { method: 'DELETE', headers: staff });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(existsSync(mediaFile(image.image))).toBe(false);
    expect(existsSync(mediaFile(image.thumbnail))).toBe(false);
    expect(await t.deps.db.select().from(productImages).where(eq(productImages.id, image.id))).toEqual([]);
    expect((await get(image.thumbnail)).status).toBe(404);

    expect((await fetch(url, { method: 'DELETE', headers: staff })).status).toBe(404);
    const malformed = await fetch(`${base}/api/products/${productId}/images/nope/`, {
      method: 'DELETE',
      headers: staff,
    });
    expect(malformed.status).toBe(404);
  });

  it('is described in the OpenAPI document as a multipart upload', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/schema/' })).json();
    const post = doc.paths['/api/products/{id}/images/'].post;
    expect(post).toMatchObject({ tags: ['catalog'], security: [{ bearerAuth: [] }] });
    expect(post.requestBody.content['multipart/form-data'].schema.properties).toHaveProperty('image');
    expect(Object.keys(post.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '403', '404', '413']),
    );
    expect(doc.paths['/api/products/{id}/images/{imageId}/'].delete).toMatchObject({ tags: ['catalog'] });
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/media'))).toBe(false);
  });

  it('never throttles /media/, while the API routes are', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'nexus-images-'));
    const other = await createTestApp({
      env: { DATA_DIR: dataDir, THROTTLE_ENABLED: 'true', THROTTLE_ANON: '3/hour' },
    });
    try {
      mkdirSync(path.join(dataDir, 'media', 'products'), { recursive: true });
      writeFileSync(path.join(dataDir, 'media', 'products', 'a.png'), png);
      for (let i = 0; i < 5; i++) {
        const res = await other.app.inject({ method: 'GET', url: '/media/products/a.png' });
        expect(res.statusCode).toBe(200);
      }
      const statuses = [];
      for (let i = 0; i < 5; i++) {
        const res = await other.app.inject({ method: 'GET', url: '/api/verify-email/nothing/' });
        statuses.push(res.statusCode);
      }
      expect(statuses).toContain(429);
    } finally {
      await other.close();
    }
  });
});
