import { mkdirSync } from 'node:fs';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Deps } from '../../platform/deps.js';
import { staffOnly } from '../../platform/auth.js';
import { fieldError, HttpError, notFound } from '../../platform/errors/http-errors.js';
import { Detail, errors } from '../../platform/http/schemas.js';
import {
  addProductImage,
  ALT_TEXT_MAX_LENGTH,
  assertLiveProduct,
  deleteProductImage,
  INVALID_IMAGE,
  MAX_IMAGE_BYTES,
  mediaRoot,
  NO_FILE,
  THUMBNAIL_SIZE,
  type ImageUpload,
} from './images.js';
import { imageView } from './image-view.js';

const bearer = [{ bearerAuth: [] }];
const MIB = 1024 * 1024;
/** Uploaded files are named by uuid and never rewritten, so caches may keep them for good. */
const MEDIA_CACHE_CONTROL = 'public, max-age=31536000, immutable';

export const ProductImageBody = Type.Object({
  id: Type.String({ format: 'uuid' }),
  product: Type.String({ format: 'uuid' }),
  image: Type.String({ format: 'uri', description: 'The original file, as uploaded.' }),
  thumbnail: Type.String({
    format: 'uri',
    description: `WebP, within ${THUMBNAIL_SIZE}×${THUMBNAIL_SIZE}.`,
  }),
  alt_text: Type.String(),
  width: Type.Integer({ description: 'Pixels, as displayed (after the EXIF orientation).' }),
  height: Type.Integer(),
  position: Type.Integer({ description: 'Order among the product’s images, from 0.' }),
  created_at: Type.String({ format: 'date-time' }),
});

/** For the OpenAPI document only: the handler reads the multipart stream itself (see `attachValidation`). */
const UploadForm = Type.Object(
  {
    image: Type.String({
      contentMediaType: 'application/octet-stream',
      description: `PNG, JPEG, WebP or GIF (judged from the content), at most ${MAX_IMAGE_BYTES / MIB} MiB.`,
    }),
    alt_text: Type.Optional(Type.String({ maxLength: ALT_TEXT_MAX_LENGTH })),
  },
  { description: 'A `multipart/form-data` form with one file field, `image`.' },
);

const ImageParams = Type.Object({ id: Type.String({ description: 'Product id (uuid).' }) });
const ImageItemParams = Type.Object({
  id: Type.String({ description: 'Product id (uuid).' }),
  imageId: Type.String({ description: 'Image id (uuid).' }),
});

const tooLarge = (detail: string) => new HttpError(413, { detail });

/** Multipart errors from the parser, as the API's own answers. */
function uploadError(err: unknown): unknown {
  if (err instanceof HttpError) return err;
  const code = (err as FastifyError | undefined)?.code;
  switch (code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return tooLarge(`The file is too large: the limit is ${MAX_IMAGE_BYTES / MIB} MiB.`);
    case 'FST_FILES_LIMIT':
      return tooLarge('Too many files: send one, in the field "image".');
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return tooLarge('Too many form fields.');
    case 'FST_PROTO_VIOLATION':
    case 'FST_INVALID_JSON_FIELD_ERROR':
    case 'FST_MP_PREMATURE_CLOSE':
      return new HttpError(400, { detail: `Multipart form parse error - ${(err as Error).message}` });
  }
  // busboy's own complaints about the body (no boundary, a malformed part, an early end).
  if (err instanceof Error && !(err as Partial<FastifyError>).statusCode) {
    return new HttpError(400, { detail: `Multipart form parse error - ${err.message}` });
  }
  return err;
}

/** Reads the form: the `image` file into memory (at most the size limit) and `alt_text`. */
async function readUpload(request: FastifyRequest): Promise<ImageUpload> {
  if (!request.isMultipart()) {
    const type = request.headers['content-type']?.split(';')[0]?.trim();
    // No body at all is a form without its file, as in DRF.
    if (!type) throw fieldError('image', NO_FILE);
    throw new HttpError(415, { detail: `Unsupported media type "${type}" in request.` });
  }
  let bytes: Buffer | undefined;
  let altText = '';
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname === 'image' && bytes === undefined) bytes = await part.toBuffer();
        else part.file.resume();
      } else if (part.fieldname === 'alt_text') {
        if (typeof part.value !== 'string') throw fieldError('alt_text', 'Not a valid string.');
        if (part.valueTruncated || part.value.length > ALT_TEXT_MAX_LENGTH) {
          throw fieldError(
            'alt_text',
            `Ensure this field has no more than ${ALT_TEXT_MAX_LENGTH} characters.`,
          );
        }
        altText = part.value;
      }
    }
  } catch (err) {
    throw uploadError(err);
  }
  if (bytes === undefined) throw fieldError('image', NO_FILE);
  return { bytes, altText };
}

/**
 * Product images (SPEC §4): upload and delete, staff only, and `/media/` serving the files.
 * Multipart parsing exists only inside this plugin; the rest of the API keeps its 1 MiB JSON bodies.
 */
export async function imageRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  await app.register(async (scope) => {
    await scope.register(multipart, {
      limits: { fileSize: MAX_IMAGE_BYTES, files: 1, fields: 5, parts: 10, fieldSize: 16 * 1024 },
    });
    const r = scope.withTypeProvider<TypeBoxTypeProvider>();

    r.post(
      '/api/products/:id/images/',
      {
        preValidation: staffOnly,
        // The body schema documents the form; the multipart stream is read by the handler, so
        // the (always absent) parsed body's validation result is set aside here.
        attachValidation: true,
        schema: {
          tags: ['catalog'],
          summary: 'Upload a product image (staff): the original is kept and a thumbnail made',
          description:
            `\`multipart/form-data\` with one file in \`image\` (PNG, JPEG, WebP or GIF, at most ` +
            `${MAX_IMAGE_BYTES / MIB} MiB; the type is judged from the content, never the name) and an ` +
            `optional \`alt_text\`. Anything else in \`image\` is a 400: \`{"image": ["${INVALID_IMAGE}"]}\`.`,
          security: bearer,
          consumes: ['multipart/form-data'],
          params: ImageParams,
          body: UploadForm,
          response: {
            201: ProductImageBody,
            ...errors(400, 401, 403, 404, 429),
            413: { ...Detail, description: `The file is over ${MAX_IMAGE_BYTES / MIB} MiB.` },
            415: { ...Detail, description: 'The body is not `multipart/form-data`.' },
          },
        },
      },
      async (request, reply) => {
        // The product first: a 404 must not wait for (or depend on) the upload.
        const productId = await assertLiveProduct(deps.db, request.params.id);
        const upload = await readUpload(request);
        const image = await addProductImage(deps, productId, upload);
        return reply.code(201).send(imageView(deps, image));
      },
    );

    r.delete(
      '/api/products/:id/images/:imageId/',
      {
        preValidation: staffOnly,
        schema: {
          tags: ['catalog'],
          summary: 'Delete a product image and its files (staff)',
          security: bearer,
          params: ImageItemParams,
          response: {
            204: Type.Null({ description: 'Deleted.' }),
            ...errors(401, 403, 404, 429),
          },
        },
      },
      async (request, reply) => {
        await deleteProductImage(deps, request.params.id, request.params.imageId);
        return reply.code(204).send(null);
      },
    );
  });

  await app.register(
    async (media) => {
      const root = mediaRoot(deps.config);
      mkdirSync(root, { recursive: true });
      // A missing file is a plain 404 here: the application's 404 handler would call a GET of
      // an unknown file a 405 (the wildcard route takes GET), and path tricks are 404s, not 403s.
      media.setNotFoundHandler(() => {
        throw notFound();
      });
      // Forbidden paths (dot segments, `//`, a folder) are 403s from @fastify/static and send.
      media.setErrorHandler((err: FastifyError) => {
        if (err.code === 'FST_STATIC_FORBIDDEN_PATH' || err.statusCode === 403) throw notFound();
        throw err;
      });
      media.addHook('onRoute', (route) => {
        route.config = { ...route.config, throttle: false };
      });
      await media.register(fastifyStatic, {
        root,
        prefix: '/',
        decorateReply: false,
        schemaHide: true,
        index: false,
        list: false,
        // Temporary files of uploads in progress are dot files: never served.
        dotfiles: 'ignore',
        cacheControl: false,
        setHeaders(reply) {
          reply.header('cache-control', MEDIA_CACHE_CONTROL);
          // Storefronts on other origins show these images (helmet's default is same-origin).
          reply.header('cross-origin-resource-policy', 'cross-origin');
        },
      });
    },
    { prefix: '/media' },
  );
}
