/**
 * Issue 8, acceptance 6: an image uploaded through a product id written in capitals. PostgreSQL
 * reads `ABC…` and `abc…` as one uuid, so the upload found the product, but the files went under
 * `products/<ID AS WRITTEN>/` while the row and the URLs said the stored, lower-case id: the links
 * answered 404 and a delete left the files behind. Multipart goes over real HTTP, as a browser sends it.
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { products } from '../../src/modules/catalog/tables.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

describe('image upload through an upper-case product id', () => {
  let t: TestApp;
  let base: string;
  let staff: Record<string, string>;
  let productId: string;
  let png: Buffer;

  beforeAll(async () => {
    t = await createTestApp({ env: { DATA_DIR: mkdtempSync(path.join(tmpdir(), 'nexus-image-case-')) } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    staff = (await signedInUser(t.app, t.deps, { isStaff: true })).headers;
    const [product] = await t.deps.db
      .insert(products)
      .values({ name: 'Lamp', slug: 'lamp', sku: 'LAMP-1', price: '9.99' })
      .returning();
    productId = product!.id;
    png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c82a5a' } })
      .png()
      .toBuffer();
  });
  afterAll(() => t.close());

  const productsDir = () => path.join(t.config.dataDir, 'media', 'products');
  /** The media file a returned URL names, fetched from this server whatever SITE_URL says. */
  const fetchMedia = (url: string) => fetch(new URL(new URL(url).pathname, base));

  it('the returned URLs serve the image, and deleting it removes both files', async () => {
    const upper = productId.toUpperCase();
    expect(upper).not.toBe(productId);
    const body = new FormData();
    body.append('image', new Blob([png], { type: 'image/png' }), 'lamp.png');
    const res = await fetch(`${base}/api/products/${upper}/images/`, {
      method: 'POST',
      headers: staff,
      body,
    });
    expect(res.status).toBe(201);
    const image = (await res.json()) as { id: string; product: string; image: string; thumbnail: string };
    expect(image.product).toBe(productId);

    const original = await fetchMedia(image.image);
    expect(original.status).toBe(200);
    expect(Buffer.from(await original.arrayBuffer()).equals(png)).toBe(true);
    const thumbnail = await fetchMedia(image.thumbnail);
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get('content-type')).toBe('image/webp');
    // One folder, named by the stored id.
    expect(readdirSync(productsDir())).toEqual([productId]);

    const deleted = await fetch(`${base}/api/products/${upper}/images/${image.id.toUpperCase()}/`, {
      method: 'DELETE',
      headers: staff,
    });
    expect(deleted.status).toBe(204);
    expect(readdirSync(path.join(productsDir(), productId))).toEqual([]);
    expect(existsSync(path.join(productsDir(), upper))).toBe(false);
    expect((await fetchMedia(image.image)).status).toBe(404);
    expect((await fetchMedia(image.thumbnail)).status).toBe(404);
  });
});
