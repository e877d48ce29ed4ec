import type { Deps } from '../../platform/deps.js';
import type { ProductImage } from './tables.js';

/** Public URL of a file under the media directory. */
export const mediaUrl = (deps: Deps, productId: string, file: string) =>
  `${deps.config.siteUrl}/media/products/${productId}/${file}`;

/** What an image's view shows. */
export type ImageFields = Pick<
  ProductImage,
  'id' | 'productId' | 'file' | 'thumbnail' | 'altText' | 'width' | 'height' | 'position' | 'createdAt'
>;

export function imageView(deps: Deps, image: ImageFields) {
  return {
    id: image.id,
    product: image.productId,
    image: mediaUrl(deps, image.productId, image.file),
    thumbnail: mediaUrl(deps, image.productId, image.thumbnail),
    alt_text: image.altText,
    width: image.width,
    height: image.height,
    position: image.position,
    created_at: image.createdAt.toISOString(),
  };
}
