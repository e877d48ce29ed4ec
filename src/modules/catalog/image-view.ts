import type { Deps } from '../../deps.js';
import type { ProductImage } from './schema.js';

/** Public URL of a file under the media directory. */
export const mediaUrl = (deps: Deps, productId: string, file: string) =>
  `${deps.config.siteUrl}/media/products/${productId}/${file}`;

export function imageView(deps: Deps, image: ProductImage) {
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
