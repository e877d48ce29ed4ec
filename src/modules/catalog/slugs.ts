/** Django's slugify, ASCII only: "Home & Kitchen" → "home-kitchen"; cut to `maxLength`. */
export function slugify(text: string, maxLength = 50): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\w\s-]/g, '')
    .trim()
    .replace(/[-\s_]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug.slice(0, maxLength).replace(/-+$/, '');
}

export const SLUG_PATTERN = '^[-a-zA-Z0-9_]+$';
