import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { and, eq, isNull, sql } from 'drizzle-orm';
import sharp, { type Metadata } from 'sharp';
import type { Config } from '../../config.js';
import type { Deps } from '../../platform/deps.js';
import type { Executor } from '../../platform/db/client.js';
import { transaction } from '../../platform/db/transaction.js';
import { fieldError, notFound } from '../../platform/errors/http-errors.js';
import { productImages, products, type ProductImage } from './tables.js';

/** The largest upload accepted (SPEC §4 images); a bigger file is a 413. */
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
/** Decoded size cap: a small, highly compressed file must not expand into gigabytes of pixels. */
export const MAX_IMAGE_PIXELS = 50_000_000;
/** Thumbnails fit within a square of this side (never enlarged), encoded as WebP. */
export const THUMBNAIL_SIZE = 320;
export const ALT_TEXT_MAX_LENGTH = 255;

/** Django's `ImageField` messages, as the original API answered them. */
export const INVALID_IMAGE =
  'Upload a valid image. The file you uploaded was either not an image or a corrupted image.';
export const NO_FILE = 'No file was submitted.';
export const EMPTY_FILE = 'The submitted file is empty.';

/** The formats accepted, as sharp names them, with the extension and type the stored original gets. */
const FORMATS = {
  png: { ext: 'png', contentType: 'image/png' },
  jpeg: { ext: 'jpg', contentType: 'image/jpeg' },
  webp: { ext: 'webp', contentType: 'image/webp' },
  gif: { ext: 'gif', contentType: 'image/gif' },
} as const;
type Format = keyof typeof FORMATS;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isUuid = (value: string) => UUID.test(value);

/** Where uploaded files live: `<DATA_DIR>/media`, served at `/media/`. */
export const mediaRoot = (config: Pick<Config, 'dataDir'>) => path.join(config.dataDir, 'media');

/**
 * The stored id of the product `id` names, 404 unless it exists and is not deleted (a malformed id
 * is a 404 too). Callers name files and URLs with what this returns, never with `id` as written:
 * PostgreSQL reads `ABC…` and `abc…` as one uuid, a file system does not.
 */
export async function assertLiveProduct(db: Executor, id: string, lock = false): Promise<string> {
  if (!isUuid(id)) throw notFound();
  const query = db
    .select({ id: products.id })
    .from(products)
    .where(and(eq(products.id, id), isNull(products.deletedAt)));
  const [row] = lock ? await query.for('update') : await query;
  if (!row) throw notFound();
  return row.id;
}

export interface InspectedImage {
  format: Format;
  width: number;
  height: number;
  thumbnail: Buffer;
}

/**
 * What the bytes are, judged from their content alone (never the file name or the declared type),
 * and their thumbnail. Anything but a whole PNG, JPEG, WebP or GIF is a 400 on `image`.
 */
export async function inspectImage(bytes: Buffer): Promise<InspectedImage> {
  const invalid = () => fieldError('image', INVALID_IMAGE);
  if (bytes.length === 0) throw fieldError('image', EMPTY_FILE);
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw invalid();
  }
  const format = metadata.format as string;
  if (!Object.hasOwn(FORMATS, format) || !metadata.width || !metadata.height) throw invalid();
  const frameHeight = metadata.pageHeight ?? metadata.height;
  if (metadata.width * frameHeight > MAX_IMAGE_PIXELS) {
    throw fieldError('image', `The image is too large: at most ${MAX_IMAGE_PIXELS} pixels are accepted.`);
  }

  let thumbnail: Buffer;
  try {
    // Decoding the whole image here is also what proves it is not truncated or corrupt.
    thumbnail = await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error' })
      .autoOrient()
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer();
  } catch {
    throw invalid();
  }
  // Width and height as the image is displayed, after its EXIF orientation.
  const { width, height } = metadata.autoOrient ?? { width: metadata.width, height: frameHeight };
  return { format: format as Format, width, height, thumbnail };
}

/** Writes to a hidden temporary name in the same folder, then renames: readers never see half a file. */
async function writeFileAtomic(target: string, data: Buffer): Promise<void> {
  const temp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** A product's folder under the media root: `products/<product id>/`. */
const productFolder = (config: Pick<Config, 'dataDir'>, productId: string) =>
  path.join(mediaRoot(config), 'products', productId);

/** Resolves a stored file name inside its product's folder (never outside it, whatever the row says). */
function mediaPath(folder: string, file: string): string {
  const full = path.resolve(folder, file);
  if (path.dirname(full) !== folder) throw new Error(`media file outside its folder: ${file}`);
  return full;
}

async function removeFiles(folder: string, files: string[]): Promise<void> {
  await Promise.all(files.map((file) => rm(mediaPath(folder, file), { force: true })));
}

export interface ImageUpload {
  bytes: Buffer;
  altText: string;
}

/**
 * Stores an upload: the original bytes as they came and a WebP thumbnail under
 * `<DATA_DIR>/media/products/<product id>/`, then the row, last in its product's order.
 * If the row cannot be written the files go again.
 */
export async function addProductImage(
  deps: Deps,
  requestedId: string,
  upload: ImageUpload,
): Promise<ProductImage> {
  const productId = await assertLiveProduct(deps.db, requestedId);
  const inspected = await inspectImage(upload.bytes);
  const { ext, contentType } = FORMATS[inspected.format];

  const id = randomUUID();
  const folder = productFolder(deps.config, productId);
  // The row keeps bare file names; the folder follows from the product (see image-view.ts).
  const file = `${id}.${ext}`;
  const thumbnail = `${id}-thumb.webp`;
  await mkdir(folder, { recursive: true });

  const written: string[] = [];
  try {
    await writeFileAtomic(mediaPath(folder, file), upload.bytes);
    written.push(file);
    await writeFileAtomic(mediaPath(folder, thumbnail), inspected.thumbnail);
    written.push(thumbnail);

    return await transaction(deps.db, async (tx) => {
      // Locking the product serialises uploads to it, so two never take the same position
      // (and a product deleted meanwhile is a 404).
      await assertLiveProduct(tx, productId, true);
      const [last] = await tx
        .select({ next: sql<number>`coalesce(max(${productImages.position}) + 1, 0)`.mapWith(Number) })
        .from(productImages)
        .where(eq(productImages.productId, productId));
      const [row] = await tx
        .insert(productImages)
        .values({
          id,
          productId,
          file,
          thumbnail,
          contentType,
          width: inspected.width,
          height: inspected.height,
          altText: upload.altText,
          position: last?.next ?? 0,
        })
        .returning();
      return row!;
    });
  } catch (err) {
    await removeFiles(folder, written).catch((cleanupError: unknown) =>
      deps.log.warn({ err: cleanupError }, 'could not remove the files of a failed image upload'),
    );
    throw err;
  }
}

/** Removes an image's row, then its files; 404 unless the image belongs to that product. */
export async function deleteProductImage(deps: Deps, productId: string, imageId: string): Promise<void> {
  if (!isUuid(productId) || !isUuid(imageId)) throw notFound();
  const [row] = await deps.db
    .delete(productImages)
    .where(and(eq(productImages.id, imageId), eq(productImages.productId, productId)))
    .returning();
  if (!row) throw notFound();
  // The stored id names the folder, as it did when the files were written.
  await removeFiles(productFolder(deps.config, row.productId), [row.file, row.thumbnail]);
}
