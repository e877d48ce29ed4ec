import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CsvFileWriter } from './csv-writer.js';
import {
  CATEGORIES_FILE,
  CATEGORY_COLUMNS,
  CATEGORY_SLUG_SEPARATOR,
  FORMAT_VERSION,
  MANIFEST_FILE,
  PRODUCT_COLUMNS,
  PRODUCTS_FILE,
  VARIANT_COLUMNS,
  VARIANTS_FILE,
  type CatalogManifest,
} from './format.js';
import { createPrng, type Prng } from './prng.js';
import {
  ADJECTIVES,
  BENEFITS,
  BRANDS,
  CATEGORY_TREE,
  CLOTHING_SIZES,
  COLORS,
  FEATURES,
  MATERIALS,
  OTHER_SIZES,
  USES,
  WIRELESS_PHRASES,
} from './vocabulary.js';

export interface GenerateOptions {
  /** How many products (1 to 5,000,000). */
  products: number;
  /** Any string; the same products and seed give byte-identical files. */
  seed: string;
}

export const MAX_GENERATED_PRODUCTS = 5_000_000;

/** Share of products whose description mentions "wireless". */
const WIRELESS_SHARE = 0.14;

interface Leaf {
  slug: string;
  parentSlug: string;
  /** SKU prefix, e.g. `ELE-AUD`. */
  code: string;
  nouns: readonly string[];
  clothing: boolean;
}

const YEAR_START_US = Date.UTC(2025, 0, 1) * 1000;
/** 2025-12-31T23:59:59.999999Z, the last instant of the year. */
const YEAR_END_US = Date.UTC(2026, 0, 1) * 1000 - 1;
const YEAR_SPAN_US = YEAR_END_US - YEAR_START_US + 1;
const DAY_US = 86_400 * 1_000_000;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** `YYYY-MM-DDTHH:MM:SS.ffffffZ` from microseconds since the epoch. */
export function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const d = new Date(ms);
  const micros = us - Math.floor(us / 1_000_000) * 1_000_000;
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(micros, 6)}Z`
  );
}

/** Cents to a 2-decimal string without floating point: 1999 → `19.99`. */
const money = (cents: number) => `${Math.floor(cents / 100)}.${pad(cents % 100)}`;

export function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** The slugified name cut so that `-<row>` still fits in 50 characters. */
function productSlug(name: string, row: number): string {
  const suffix = `-${row}`;
  return (
    slugify(name)
      .slice(0, 50 - suffix.length)
      .replace(/-+$/, '') + suffix
  );
}

function leaves(): Leaf[] {
  return CATEGORY_TREE.flatMap((top) =>
    top.children.map((child) => ({
      slug: `${top.slug}-${child.key}`,
      parentSlug: top.slug,
      code: `${top.slug.slice(0, 3)}-${child.key.slice(0, 3)}`.toUpperCase(),
      nouns: child.nouns,
      clothing: top.slug === 'clothing',
    })),
  );
}

async function writeCategories(dir: string, seed: string): Promise<number> {
  const rng = createPrng(`${seed}/categories`);
  const out = await CsvFileWriter.create(path.join(dir, CATEGORIES_FILE), CATEGORY_COLUMNS);
  // Fixed creation times: 2024-12-01, one minute apart in file order.
  const created = (i: number) => isoMicros((Date.UTC(2024, 11, 1) + i * 60_000) * 1000);
  let count = 0;
  try {
    for (const top of CATEGORY_TREE) {
      out.write([
        rng.uuid(),
        top.name,
        top.slug,
        `Everything in ${top.name}.`,
        null,
        'true',
        created(count++),
      ]);
      for (const child of top.children) {
        const examples = child.nouns.slice(0, 3).join(', ').toLowerCase();
        out.write([
          rng.uuid(),
          child.name,
          `${top.slug}-${child.key}`,
          `${child.name} (${top.name}): ${examples} and more.`,
          top.slug,
          'true',
          created(count++),
        ]);
      }
    }
  } finally {
    await out.close();
  }
  return count;
}

interface ProductWords {
  brand: string;
  adjective: string;
  noun: string;
  color: string;
  material: string;
}

function sentence(rng: Prng, w: ProductWords): string {
  switch (rng.int(0, 5)) {
    case 0:
      return `Made from ${w.material} for ${rng.pick(BENEFITS)}.`;
    case 1:
      return `This ${w.adjective.toLowerCase()} ${w.noun.toLowerCase()} comes with ${rng.pick(FEATURES)} and ${rng.pick(FEATURES)}.`;
    case 2:
      return `Ideal for ${rng.pick(USES)}, it offers ${rng.pick(BENEFITS)}.`;
    case 3:
      return `It has ${rng.pick(FEATURES)} and a ${w.color} finish.`;
    case 4:
      return `Designed by ${w.brand} with ${w.material} construction.`;
    default:
      return `A ${w.color} ${w.noun.toLowerCase()} built for ${rng.pick(BENEFITS)}.`;
  }
}

/**
 * Writes categories.csv, products.csv, variants.csv and manifest.json into `dir` (created if
 * needed) and returns the manifest. Deterministic for (products, seed), and product k depends only
 * on the seed and the products before it: a smaller data set is a prefix of a larger one.
 * Rows are streamed out, so memory stays small whatever the size.
 */
export async function generateCatalog(dir: string, options: GenerateOptions): Promise<CatalogManifest> {
  const { products, seed } = options;
  if (!Number.isInteger(products) || products < 1 || products > MAX_GENERATED_PRODUCTS) {
    throw new RangeError(`products must be a whole number from 1 to ${MAX_GENERATED_PRODUCTS}`);
  }
  await mkdir(dir, { recursive: true });
  const categories = await writeCategories(dir, seed);
  const leafList = leaves();

  const rng = createPrng(`${seed}/products`);
  const productOut = await CsvFileWriter.create(path.join(dir, PRODUCTS_FILE), PRODUCT_COLUMNS);
  const variantOut = await CsvFileWriter.create(path.join(dir, VARIANTS_FILE), VARIANT_COLUMNS);
  const usedTimes = new Set<number>();
  let variants = 0;
  let links = 0;
  let firstProductId = '';

  try {
    for (let row = 1; row <= products; row++) {
      const id = rng.uuid();
      if (row === 1) firstProductId = id;
      const leaf = rng.pick(leafList);
      const wireless = rng.chance(WIRELESS_SHARE);
      const words: ProductWords = {
        brand: rng.pick(BRANDS),
        adjective: wireless && rng.chance(0.4) ? 'Wireless' : rng.pick(ADJECTIVES),
        noun: rng.pick(leaf.nouns),
        color: rng.pick(COLORS),
        material: rng.pick(MATERIALS),
      };
      const model = `${rng.pick([...'ABCDEFGHJKLMNPRSTVWXZ'])}${rng.int(10, 9999)}`;
      const name = `${words.brand} ${words.adjective} ${words.noun} ${model}`;
      const sku = `${leaf.code}-${pad(row, 7)}`;

      const sentences: string[] = [];
      const sentenceCount = rng.int(2, 4);
      for (let i = 0; i < sentenceCount; i++) sentences.push(sentence(rng, words));
      if (wireless) {
        sentences[rng.int(0, sentenceCount - 1)] = `Features ${rng.pick(WIRELESS_PHRASES)}.`;
      }
      const shortDescription = `${words.adjective} ${words.material} ${words.noun.toLowerCase()} by ${words.brand}, in ${words.color}.`;

      // A third of the prices in each decade: 1.00-9.99, 10.00-99.99, 100.00-999.99.
      const band = rng.int(0, 2);
      const priceCents = rng.int(100 * 10 ** band, 1000 * 10 ** band - 1);
      const comparePrice = rng.chance(0.3)
        ? money(priceCents + Math.max(1, Math.floor((priceCents * rng.int(5, 60)) / 100)))
        : null;
      const isActive = rng.chance(0.95);
      const isDigital = rng.chance(0.1);
      let weight: string | null = null;
      let dimensions: string | null = null;
      if (!isDigital) {
        weight = money(rng.int(5, 2500));
        const tenths = (lo: number, hi: number) => rng.int(lo, hi) / 10;
        dimensions = JSON.stringify({
          length: tenths(10, 1200),
          width: tenths(10, 800),
          height: tenths(5, 600),
          unit: 'cm',
        });
      }
      const attributes = JSON.stringify({ brand: words.brand, color: words.color, material: words.material });

      let createdUs: number;
      do createdUs = YEAR_START_US + Math.floor(rng.float53() * YEAR_SPAN_US);
      while (usedTimes.has(createdUs));
      usedTimes.add(createdUs);
      const createdAt = isoMicros(createdUs);
      const updatedAt = isoMicros(Math.min(YEAR_END_US, createdUs + Math.floor(rng.float53() * 60 * DAY_US)));

      const draw = rng.float();
      const slugs = [leaf.slug];
      if (draw < 0.4) slugs.push(leaf.parentSlug);
      else if (draw < 0.55) {
        let other: Leaf;
        do other = rng.pick(leafList);
        while (other === leaf);
        slugs.push(other.slug);
      }
      links += slugs.length;

      let full = productOut.write([
        id,
        name,
        productSlug(name, row),
        sku,
        sentences.join(' '),
        shortDescription,
        money(priceCents),
        comparePrice,
        String(isActive),
        String(isDigital),
        weight,
        dimensions,
        attributes,
        createdAt,
        updatedAt,
        slugs.join(CATEGORY_SLUG_SEPARATOR),
      ]);
      if (full) await productOut.flush();

      const sizes = leaf.clothing ? CLOTHING_SIZES : OTHER_SIZES;
      const firstSize = rng.int(0, sizes.length - 1);
      const variantCount = rng.int(2, 3);
      for (let v = 0; v < variantCount; v++) {
        const color = v === 0 ? words.color : rng.pick(COLORS);
        const size = sizes[(firstSize + v) % sizes.length]!;
        const cents = Math.max(100, Math.floor((priceCents * rng.int(90, 120)) / 100));
        full = variantOut.write([
          rng.uuid(),
          id,
          `${capitalize(color)} / ${size}`,
          `${sku}-${v + 1}`,
          money(cents),
          JSON.stringify({ color, size }),
          String(rng.chance(0.97)),
          rng.int(0, 500),
          createdAt,
        ]);
        if (full) await variantOut.flush();
      }
      variants += variantCount;
    }
  } finally {
    await productOut.close();
    await variantOut.close();
  }

  const manifest: CatalogManifest = {
    format_version: FORMAT_VERSION,
    seed,
    categories,
    products,
    variants,
    product_category_links: links,
    first_product_id: firstProductId,
  };
  await writeFile(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}
