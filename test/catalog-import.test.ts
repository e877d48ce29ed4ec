import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogImport } from '../src/commands/catalog.js';
import { CommandError } from '../src/commands/output.js';
import { buildDeps, type Deps } from '../src/deps.js';
import { loadDemoCatalog } from '../src/modules/catalog/dataset/demo.js';
import { generateCatalog } from '../src/modules/catalog/dataset/generate.js';
import { importCatalog, type ImportSummary } from '../src/modules/catalog/dataset/import.js';
import { queryRows, type Executor } from '../src/platform/db/client.js';
import { createTestApp, testConfig, type TestApp } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { captureOutput } from './helpers/output.js';

/** SPEC §4 `catalog:import`, the dataset format of shared/bench/README.md, and DEMO_DATA (§1). */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// The headers as shared/bench/README.md lists them.
const HEADERS = {
  'categories.csv': 'id,name,slug,description,parent_slug,is_active,created_at',
  'products.csv':
    'id,name,slug,sku,description,short_description,price,compare_price,is_active,is_digital,' +
    'weight,dimensions,attributes,created_at,updated_at,category_slugs',
  'variants.csv': 'id,product_id,name,sku,price,attributes,is_active,stock,created_at',
};
const FILES = ['categories.csv', 'products.csv', 'variants.csv', 'manifest.json'];

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'nexus-catalog-test-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const read = (dir: string, file: string) => readFileSync(path.join(dir, file), 'utf8');
const records = (dir: string, file: string) =>
  parse<Record<string, string>>(read(dir, file), { columns: true });
const manifestOf = (dir: string) => JSON.parse(read(dir, 'manifest.json'));

/** RFC 4180 writer independent of the project's, for editing fixtures. */
const csvLine = (fields: string[]) =>
  fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',');
function rewrite(dir: string, file: string, edit: (rows: string[][]) => void) {
  const rows = parse(read(dir, file));
  edit(rows);
  writeFileSync(path.join(dir, file), rows.map(csvLine).join('\n') + '\n');
}
/** 1-based line on which the record starting with `id` begins. */
const lineOf = (dir: string, file: string, id: string) =>
  read(dir, file)
    .split('\n')
    .findIndex((l) => l.startsWith(id)) + 1;

const count = async (db: Executor, table: string) =>
  (await queryRows<{ n: number }>(db, sql.raw(`SELECT count(*)::int AS n FROM ${table}`)))[0]!.n;

describe('generateCatalog', () => {
  let big: string;
  let rows: {
    categories: Array<Record<string, string>>;
    products: Array<Record<string, string>>;
    variants: Array<Record<string, string>>;
  };

  beforeAll(async () => {
    big = tempDir();
    await generateCatalog(big, { products: 2000, seed: 'stats' });
    rows = {
      categories: records(big, 'categories.csv'),
      products: records(big, 'products.csv'),
      variants: records(big, 'variants.csv'),
    };
  });

  it('gives byte-identical files for the same size and seed, other files for another seed', async () => {
    const [a, b, c] = [tempDir(), tempDir(), tempDir()];
    await generateCatalog(a, { products: 300, seed: 'same' });
    await generateCatalog(b, { products: 300, seed: 'same' });
    await generateCatalog(c, { products: 300, seed: 'other' });
    for (const file of FILES)
      expect(readFileSync(path.join(a, file)).equals(readFileSync(path.join(b, file)))).toBe(true);
    expect(read(c, 'products.csv')).not.toBe(read(a, 'products.csv'));
  });

  it('makes a smaller dataset a prefix of a larger one', async () => {
    const [small, large] = [tempDir(), tempDir()];
    const m50 = await generateCatalog(small, { products: 50, seed: 'prefix' });
    const m200 = await generateCatalog(large, { products: 200, seed: 'prefix' });
    expect(read(small, 'categories.csv')).toBe(read(large, 'categories.csv'));
    const smallProducts = read(small, 'products.csv');
    expect(smallProducts.split('\n')).toHaveLength(52); // header, 50 rows, final newline
    expect(read(large, 'products.csv').startsWith(smallProducts)).toBe(true);
    const smallVariants = read(small, 'variants.csv');
    expect(read(large, 'variants.csv').startsWith(smallVariants)).toBe(true);
    expect(m50.first_product_id).toBe(m200.first_product_id);
    expect(m50.variants).toBe(smallVariants.split('\n').length - 2);
  });

  it('writes the columns of the README, RFC 4180 with \\n line ends, and a matching manifest', () => {
    for (const [file, header] of Object.entries(HEADERS)) {
      const text = read(big, file);
      expect(text.split('\n')[0]).toBe(header);
      expect(text).not.toContain('\r');
      expect(text.endsWith('\n')).toBe(true);
    }
    const manifest = manifestOf(big);
    expect(manifest).toEqual({
      format_version: 1,
      seed: 'stats',
      categories: 60,
      products: 2000,
      variants: rows.variants.length,
      product_category_links: rows.products.reduce((n, p) => n + p.category_slugs!.split('|').length, 0),
      first_product_id: rows.products[0]!.id,
    });
    // csv-parse reads every row with the header's number of fields.
    expect(rows.products).toHaveLength(2000);
  });

  it('has 10 top-level categories with 5 children each, parents first', () => {
    const { categories } = rows;
    expect(categories).toHaveLength(60);
    const seen = new Set<string>();
    for (const c of categories) {
      if (c.parent_slug) {
        expect(seen.has(c.parent_slug)).toBe(true);
        expect(c.slug!.startsWith(`${c.parent_slug}-`)).toBe(true);
      }
      seen.add(c.slug!);
      expect(c.is_active).toBe('true');
      expect(c.created_at).toMatch(/^2024-12-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(c.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    const tops = categories.filter((c) => !c.parent_slug);
    expect(tops).toHaveLength(10);
    expect(tops.map((c) => c.slug)).toEqual(
      expect.arrayContaining(['electronics', 'clothing', 'home-kitchen']),
    );
    for (const top of tops) expect(categories.filter((c) => c.parent_slug === top.slug)).toHaveLength(5);
    expect(seen.has('electronics-audio')).toBe(true);
    expect(categories.filter((c) => c.name === 'Accessories').length).toBeGreaterThan(1);
  });

  it('has the README proportions and shapes on 2,000 products', () => {
    const { products, categories } = rows;
    const share = (pred: (p: Record<string, string>) => boolean) =>
      products.filter(pred).length / products.length;
    const parentOf = new Map(categories.map((c) => [c.slug, c.parent_slug]));
    const leaves = new Set(categories.filter((c) => c.parent_slug).map((c) => c.slug));

    products.forEach((p, i) => {
      const row = i + 1;
      expect(p.name).toMatch(/^\S+(?: \S+)* \S+ \S+ [A-Z]\d+$/);
      expect(p.slug!.length).toBeLessThanOrEqual(50);
      expect(p.slug!.endsWith(`-${row}`)).toBe(true);
      expect(p.slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(p.sku).toBe(`${p.sku!.slice(0, 7)}-${String(row).padStart(7, '0')}`);
      expect(p.sku).toMatch(/^[A-Z]{3}-[A-Z]{3}-\d{7}$/);
      expect(p.price).toMatch(/^\d+\.\d\d$/);
      expect(Number(p.price)).toBeGreaterThanOrEqual(1);
      expect(Number(p.price)).toBeLessThanOrEqual(999.99);
      if (p.compare_price) expect(Number(p.compare_price)).toBeGreaterThan(Number(p.price));
      expect(['true', 'false']).toContain(p.is_active);
      if (p.is_digital === 'true') {
        expect(p.weight).toBe('');
        expect(p.dimensions).toBe('');
      } else {
        expect(Number(p.weight)).toBeGreaterThanOrEqual(0.05);
        expect(Number(p.weight)).toBeLessThanOrEqual(25);
        expect(Object.keys(JSON.parse(p.dimensions!))).toEqual(['length', 'width', 'height', 'unit']);
      }
      expect(Object.keys(JSON.parse(p.attributes!))).toEqual(['brand', 'color', 'material']);
      expect(p.attributes).toBe(JSON.stringify(JSON.parse(p.attributes!))); // compact JSON
      const created = Date.parse(p.created_at!);
      const updated = Date.parse(p.updated_at!);
      expect(p.created_at).toMatch(/^2025-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(updated).toBeGreaterThanOrEqual(created);
      expect(updated - created).toBeLessThanOrEqual(60 * 86_400_000);
      expect(p.updated_at! <= '2025-12-31T23:59:59.999999Z').toBe(true);
      const slugs = p.category_slugs!.split('|');
      expect(leaves.has(slugs[0])).toBe(true);
      expect(slugs.length).toBeLessThanOrEqual(2);
      if (slugs[1]) expect(slugs[1] === parentOf.get(slugs[0]) || leaves.has(slugs[1])).toBe(true);
      expect(slugs[1]).not.toBe(slugs[0]);
    });
    expect(new Set(products.map((p) => p.created_at)).size).toBe(products.length);
    expect(new Set(products.map((p) => p.slug)).size).toBe(products.length);
    // Creation times spread over the whole year.
    const months = new Set(products.map((p) => p.created_at!.slice(5, 7)));
    expect(months.size).toBe(12);

    const around = (value: number, expected: number, tolerance: number) => {
      expect(value).toBeGreaterThan(expected - tolerance);
      expect(value).toBeLessThan(expected + tolerance);
    };
    around(
      share((p) => p.description!.toLowerCase().includes('wireless')),
      0.14,
      0.03,
    );
    around(
      share((p) => Number(p.price) < 10),
      1 / 3,
      0.04,
    );
    around(
      share((p) => Number(p.price) >= 10 && Number(p.price) < 100),
      1 / 3,
      0.04,
    );
    around(
      share((p) => Number(p.price) >= 100),
      1 / 3,
      0.04,
    );
    around(
      share((p) => p.compare_price !== ''),
      0.3,
      0.04,
    );
    around(
      share((p) => p.is_active === 'true'),
      0.95,
      0.02,
    );
    around(
      share((p) => p.is_digital === 'true'),
      0.1,
      0.025,
    );
    around(
      share((p) => p.category_slugs!.split('|').length === 1),
      0.45,
      0.04,
    );
    around(
      share((p) => parentOf.get(p.category_slugs!.split('|')[0]) === p.category_slugs!.split('|')[1]),
      0.4,
      0.04,
    );
    for (const word of ['cotton', 'steel', 'leather']) {
      expect(share((p) => p.description!.includes(word))).toBeGreaterThan(0.02);
    }
  });

  it('gives every product 2-3 variants priced from its price', () => {
    const byProduct = new Map(rows.products.map((p) => [p.id!, p]));
    const perProduct = new Map<string, number>();
    for (const v of rows.variants) {
      const p = byProduct.get(v.product_id!)!;
      expect(p).toBeDefined();
      const n = (perProduct.get(p.id!) ?? 0) + 1;
      perProduct.set(p.id!, n);
      expect(v.sku).toBe(`${p.sku}-${n}`);
      expect(v.created_at).toBe(p.created_at);
      expect(v.price).toMatch(/^\d+\.\d\d$/);
      const cents = Math.round(Number(v.price) * 100);
      const base = Math.round(Number(p.price) * 100);
      expect(cents).toBeGreaterThanOrEqual(Math.max(100, Math.floor(base * 0.9)));
      expect(cents).toBeLessThanOrEqual(Math.max(100, Math.ceil(base * 1.2)));
      expect(Number(v.stock)).toBeGreaterThanOrEqual(0);
      expect(Number(v.stock)).toBeLessThanOrEqual(500);
      expect(v.name).toMatch(/^[A-Z][a-z]+ \/ \S+$/);
      expect(Object.keys(JSON.parse(v.attributes!))).toEqual(['color', 'size']);
    }
    expect([...perProduct.values()].every((n) => n === 2 || n === 3)).toBe(true);
    expect(perProduct.size).toBe(rows.products.length);
    const active = rows.variants.filter((v) => v.is_active === 'true').length / rows.variants.length;
    expect(active).toBeGreaterThan(0.95);
    expect(active).toBeLessThan(0.99);
  });
});

describe('importCatalog', () => {
  let t: TestApp;
  let dir: string;
  let manifest: Record<string, any>;
  let first: ImportSummary;

  beforeAll(async () => {
    t = await createTestApp();
    dir = tempDir();
    manifest = await generateCatalog(dir, { products: 1000, seed: 'import' });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Every row's xmin: it changes whenever PostgreSQL writes a new version of the row. */
  const versions = async () => ({
    categories: await queryRows(t.deps.db, sql`SELECT id, xmin::text FROM categories ORDER BY id`),
    products: await queryRows(t.deps.db, sql`SELECT id, xmin::text FROM products ORDER BY id`),
    variants: await queryRows(t.deps.db, sql`SELECT id, xmin::text FROM product_variants ORDER BY id`),
    links: await queryRows(
      t.deps.db,
      sql`SELECT product_id, category_id, xmin::text FROM product_categories ORDER BY 1, 2`,
    ),
  });

  it('loads the 1,000-product dataset: counts match manifest.json', async () => {
    const progress: number[] = [];
    first = await importCatalog(t.deps, dir, {
      onProgress: (p) => progress.push(p.totalBytesRead / p.totalBytes),
    });
    expect(first.rejections).toEqual([]);
    expect(first.categories).toMatchObject({ read: 60, inserted: 60, updated: 0, unchanged: 0, rejected: 0 });
    expect(first.products).toMatchObject({
      read: 1000,
      inserted: 1000,
      updated: 0,
      unchanged: 0,
      rejected: 0,
    });
    expect(first.variants).toMatchObject({
      read: manifest.variants,
      inserted: manifest.variants,
      rejected: 0,
    });
    expect(first.links).toEqual({ inserted: manifest.product_category_links, deleted: 0 });
    expect(first.analyzed).toEqual([
      'categories',
      'products',
      'product_categories',
      'public_category_prices',
      'product_variants',
    ]);
    expect(progress.at(-1)).toBe(1);

    const db = t.deps.db;
    expect(await count(db, 'categories')).toBe(manifest.categories);
    expect(await count(db, 'products')).toBe(manifest.products);
    expect(await count(db, 'product_variants')).toBe(manifest.variants);
    expect(await count(db, 'product_categories')).toBe(manifest.product_category_links);
    expect(await count(db, 'categories WHERE parent_id IS NULL')).toBe(10);

    // One product, field by field, against its CSV row (ids kept, parents and links resolved).
    const csv = records(dir, 'products.csv')[0]!;
    const [stored] = await queryRows<Record<string, any>>(
      db,
      sql`SELECT id::text, name, slug, sku, description, short_description, price::text, compare_price::text,
                 is_active, is_digital, weight::text, dimensions, attributes,
                 to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at,
                 to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS updated_at,
                 (SELECT string_agg(c.slug, '|' ORDER BY c.parent_id IS NULL, c.slug) FROM product_categories pc
                    JOIN categories c ON c.id = pc.category_id WHERE pc.product_id = p.id) AS slugs
          FROM products p WHERE id = ${manifest.first_product_id}`,
    );
    expect(stored).toMatchObject({
      id: csv.id,
      name: csv.name,
      slug: csv.slug,
      sku: csv.sku,
      description: csv.description,
      short_description: csv.short_description,
      price: csv.price,
      compare_price: csv.compare_price || null,
      is_active: csv.is_active === 'true',
      is_digital: csv.is_digital === 'true',
      weight: csv.weight || null,
      dimensions: csv.dimensions ? JSON.parse(csv.dimensions) : null,
      attributes: JSON.parse(csv.attributes!),
      created_at: csv.created_at,
      updated_at: csv.updated_at,
    });
    expect(new Set(stored!.slugs.split('|'))).toEqual(new Set(csv.category_slugs!.split('|')));
  });

  it('changes nothing on a second run: no row is rewritten', async () => {
    const before = await versions();
    const second = await importCatalog(t.deps, dir);
    expect(second.rejections).toEqual([]);
    for (const file of [second.categories, second.products, second.variants]) {
      expect(file).toMatchObject({ inserted: 0, updated: 0, rejected: 0 });
      expect(file.unchanged).toBe(file.read);
    }
    expect(second.links).toEqual({ inserted: 0, deleted: 0 });
    expect(second.analyzed).toEqual([]);
    expect(await versions()).toEqual(before);
  });

  it('updates what changed in the files and replaces category links', async () => {
    const changed = tempDir();
    cpSync(dir, changed, { recursive: true });
    let productId = '';
    rewrite(changed, 'products.csv', (rows) => {
      const header = rows[0]!;
      const row = rows[2]!;
      productId = row[header.indexOf('id')]!;
      row[header.indexOf('price')] = '4321.00';
      row[header.indexOf('category_slugs')] = 'books-comics';
    });
    const out = await importCatalog(t.deps, changed);
    expect(out.products).toMatchObject({ inserted: 0, updated: 1, unchanged: 999 });
    expect(out.variants).toMatchObject({ inserted: 0, updated: 0 });
    const [row] = await queryRows<{ price: string; slugs: string }>(
      t.deps.db,
      sql`SELECT p.price::text AS price, string_agg(c.slug, '|') AS slugs FROM products p
          JOIN product_categories pc ON pc.product_id = p.id JOIN categories c ON c.id = pc.category_id
          WHERE p.id = ${productId} GROUP BY p.price`,
    );
    expect(row).toEqual({ price: '4321.00', slugs: 'books-comics' });
    expect(out.links.inserted + out.links.deleted).toBeGreaterThan(0);
  });
});

describe('importCatalog with broken rows', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('reports each bad row with its file and line and loads the rest', async () => {
    const dir = tempDir();
    const manifest = await generateCatalog(dir, { products: 1000, seed: 'broken' });
    const bad: Record<string, string> = {};
    rewrite(dir, 'products.csv', (rows) => {
      const h = rows[0]!;
      // A quoted description over two lines: later rows start one line further down.
      rows[2]![h.indexOf('description')] = 'First line,\nsecond line "quoted".';
      rows[5]![h.indexOf('price')] = '12.345';
      rows[8]![h.indexOf('name')] = '';
      rows[13]![h.indexOf('attributes')] = '{"brand": "Acme",';
      bad.price = rows[5]![0]!;
      bad.name = rows[8]![0]!;
      bad.json = rows[13]![0]!;
    });
    const products = records(dir, 'products.csv');
    const rejectedProducts = new Set([bad.price, bad.name, bad.json]);
    rewrite(dir, 'variants.csv', (rows) => {
      const h = rows[0]!;
      const candidates = rows.slice(1).filter((r) => !rejectedProducts.has(r[h.indexOf('product_id')]));
      candidates[20]![h.indexOf('product_id')] = '00000000-0000-4000-8000-000000000000';
      candidates[30]![h.indexOf('stock')] = '-3';
      bad.unknownProduct = candidates[20]![0]!;
      bad.stock = candidates[30]![0]!;
    });
    const variantsOfRejected = records(dir, 'variants.csv').filter((v) => rejectedProducts.has(v.product_id));

    const out = captureOutput();
    const summary = await catalogImport(t.deps, out, dir, { tty: false });

    const line = (file: string, id: string) => lineOf(dir, file, id);
    expect(line('products.csv', bad.price!)).toBe(7); // record 6 of the file, one line down
    expect(summary.rejections).toEqual([
      {
        file: 'products.csv',
        line: line('products.csv', bad.price!),
        reason: expect.stringMatching(/^price: "12\.345" has more than 2 decimal places$/),
      },
      { file: 'products.csv', line: line('products.csv', bad.name!), reason: 'name: required' },
      {
        file: 'products.csv',
        line: line('products.csv', bad.json!),
        reason: expect.stringMatching(/^attributes: not valid JSON/),
      },
      ...[
        ...variantsOfRejected.map((v) => ({
          file: 'variants.csv',
          line: line('variants.csv', v.id!),
          reason: expect.stringMatching(/^product_id: its product was rejected \(products\.csv line \d+\)$/),
        })),
        {
          file: 'variants.csv',
          line: line('variants.csv', bad.unknownProduct!),
          reason: 'product_id: no product with id 00000000-0000-4000-8000-000000000000',
        },
        {
          file: 'variants.csv',
          line: line('variants.csv', bad.stock!),
          reason: 'stock: "-3" must not be negative',
        },
      ].sort((a, b) => a.line - b.line),
    ]);
    expect(summary.products).toMatchObject({ read: 1000, inserted: 997, rejected: 3 });
    const variantRejections = variantsOfRejected.length + 2;
    expect(summary.variants).toMatchObject({
      read: manifest.variants,
      inserted: manifest.variants - variantRejections,
      rejected: variantRejections,
    });
    expect(await count(t.deps.db, 'products')).toBe(997);
    expect(await count(t.deps.db, 'product_variants')).toBe(manifest.variants - variantRejections);
    const [multiLine] = await queryRows<{ description: string }>(
      t.deps.db,
      sql`SELECT description FROM products WHERE id = ${products[1]!.id}`,
    );
    expect(multiLine!.description).toBe('First line,\nsecond line "quoted".');

    // The command lists them as file:line: reason and ends with the summary.
    expect(out.errors[0]).toBe(`products.csv:7: price: "12.345" has more than 2 decimal places`);
    expect(out.errors).toHaveLength(summary.rejections.length);
    expect(out.text()).toMatch(/products\.csv +1000 +997 +0 +0 +3/);
    expect(out.lines.at(-1)).toBe(`${summary.rejections.length} rows rejected (listed above).`);
  });

  it('rejects broken CSV and unknown references without stopping', async () => {
    const dir = tempDir();
    await generateCatalog(dir, { products: 20, seed: 'broken-csv' });
    writeFileSync(
      path.join(dir, 'categories.csv'),
      read(dir, 'categories.csv') +
        'not-a-uuid,Odd,odd,,,true,2024-12-01T00:00:00Z\n' +
        '11111111-1111-4111-8111-111111111111,Orphan,orphan,,no-such-parent,true,2024-12-01T00:00:00Z\n' +
        'too,few,fields\n' +
        '22222222-2222-4222-8222-222222222222,Fine,fine-one,,electronics,yes,2024-12-01T00:00:00Z\n',
    );
    const summary = await importCatalog(t.deps, dir);
    expect(summary.rejections.filter((r) => r.file === 'categories.csv')).toEqual([
      { file: 'categories.csv', line: 62, reason: 'id: "not-a-uuid" is not a UUID' },
      { file: 'categories.csv', line: 63, reason: 'parent_slug: unknown category "no-such-parent"' },
      { file: 'categories.csv', line: 64, reason: 'expected 7 fields, found 3' },
      { file: 'categories.csv', line: 65, reason: 'is_active: "yes" is not true or false' },
    ]);
    expect(summary.categories).toMatchObject({ read: 64, rejected: 4 });
  });

  it('rejects the rows the database refuses (id or slug taken) and keeps the rest of their batch', async () => {
    const dir = tempDir();
    await generateCatalog(dir, { products: 30, seed: 'clash' });
    expect((await importCatalog(t.deps, dir)).rejections).toEqual([]);

    const again = tempDir();
    cpSync(dir, again, { recursive: true });
    const taken: Record<string, string> = {};
    rewrite(again, 'products.csv', (rows) => {
      const h = rows[0]!;
      rows[5]![h.indexOf('sku')] = 'NEW-SKU-5'; // a new product with the slug of a stored one
      rows[5]![h.indexOf('id')] = '33333333-3333-4333-8333-333333333333';
      rows[6]![h.indexOf('sku')] = 'NEW-SKU-6'; // a new product with the id of a stored one
      rows[6]![h.indexOf('slug')] = 'brand-new-slug';
      taken.slug = rows[5]![0]!;
      taken.id = rows[6]![0]!;
    });
    rewrite(again, 'variants.csv', (rows) => {
      const h = rows[0]!;
      const last = rows.at(-1)!;
      last[h.indexOf('sku')] = 'NEW-VARIANT';
      // A new variant with the id of a stored variant (one the file no longer lists).
      last[h.indexOf('id')] = rows.splice(1, 1)[0]![h.indexOf('id')]!;
      taken.variant = last[h.indexOf('product_id')]!;
    });
    const variants = records(again, 'variants.csv');
    const summary = await importCatalog(t.deps, again);

    const products = summary.rejections.filter((r) => r.file === 'products.csv');
    expect(products).toEqual([
      {
        file: 'products.csv',
        line: 6,
        reason: expect.stringMatching(/^refused by the database: .*"products_slug_live_key".*already exists/),
      },
      {
        file: 'products.csv',
        line: 7,
        reason: expect.stringMatching(/^refused by the database: .*"products_pkey"/),
      },
    ]);
    expect(summary.products).toMatchObject({ read: 30, inserted: 0, updated: 0, unchanged: 28, rejected: 2 });
    const ofRejected = variants.filter((v) => v.product_id === taken.slug || v.product_id === taken.id);
    expect(summary.variants).toMatchObject({ inserted: 0, updated: 0, rejected: ofRejected.length + 1 });
    expect(summary.rejections.at(-1)).toEqual({
      file: 'variants.csv',
      line: variants.length + 1,
      reason: expect.stringMatching(/^refused by the database: .*"product_variants_pkey"/),
    });
  });

  it('fails with a CommandError when a file is missing', async () => {
    const dir = tempDir();
    await generateCatalog(dir, { products: 5, seed: 'missing' });
    rmSync(path.join(dir, 'variants.csv'));
    await expect(catalogImport(t.deps, captureOutput(), dir, { tty: false })).rejects.toThrow(CommandError);
    await expect(catalogImport(t.deps, captureOutput(), dir, { tty: false })).rejects.toThrow(
      /variants\.csv: no such file/,
    );
    writeFileSync(path.join(dir, 'variants.csv'), 'id,name\n');
    await expect(catalogImport(t.deps, captureOutput(), dir, { tty: false })).rejects.toThrow(
      /variants\.csv: the header lacks the column\(s\) product_id, sku, price/,
    );
  });
});

describe('loadDemoCatalog', () => {
  let deps: Deps;

  beforeAll(async () => {
    // Always the embedded database: demo data exists only there.
    deps = await buildDeps(testConfig({ DATABASE_URL: undefined, REDIS_URL: undefined, DEMO_DATA: 'true' }), {
      migrate: true,
      pgliteDir: null,
    });
  });
  afterAll(async () => {
    await deps?.close();
    rmSync(deps.config.dataDir, { recursive: true, force: true });
  });

  it('does nothing with DEMO_DATA=false or on PostgreSQL', async () => {
    await loadDemoCatalog({ ...deps, config: { ...deps.config, demoData: false } });
    await loadDemoCatalog({ ...deps, database: { ...deps.database, kind: 'postgres' } });
    expect(await count(deps.db, 'products')).toBe(0);
  });

  it('fills an empty embedded catalog with 300 products, and only once', async () => {
    expect(deps.database.kind).toBe('pglite');
    await loadDemoCatalog(deps);
    expect(await count(deps.db, 'products')).toBe(300);
    expect(await count(deps.db, 'categories')).toBe(60);
    expect(await count(deps.db, 'product_variants')).toBeGreaterThanOrEqual(600);

    const before = await queryRows(deps.db, sql`SELECT id, xmin::text FROM products ORDER BY id`);
    await loadDemoCatalog(deps);
    expect(await queryRows(deps.db, sql`SELECT id, xmin::text FROM products ORDER BY id`)).toEqual(before);
  });
});

describe('nexus catalog:import (child process)', () => {
  let database: TestDatabase;
  let dataDir: string;
  let dir: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = tempDir();
    dir = tempDir();
  });
  afterAll(async () => {
    await database?.drop();
  });

  function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const env: Record<string, string | undefined> = { ...process.env };
    delete env.DATABASE_URL;
    delete env.REDIS_URL;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: ROOT,
      env: {
        ...env,
        NODE_ENV: 'test',
        SECRET_KEY: 's'.repeat(40),
        LOG_LEVEL: 'silent',
        DATA_DIR: dataDir,
        ...(database.url ? { DATABASE_URL: database.url } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  }

  it('generates a dataset, imports it with a summary and exits 0', async () => {
    const generated = await cli(['catalog:generate', dir, '--products', '100', '--seed', 'cli']);
    expect(generated.stderr).toBe('');
    expect(generated.code).toBe(0);
    expect(generated.stdout).toMatch(/^Wrote 60 categories, 100 products, \d+ variants/);
    expect(manifestOf(dir)).toMatchObject({ products: 100, seed: 'cli' });

    const imported = await cli(['catalog:import', dir]);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('Importing: 100%');
    expect(imported.stdout).toContain('Imported the catalog from');
    expect(imported.stdout).toMatch(/products\.csv +100 +100 +0 +0 +0/);
    expect(imported.stdout).toContain('No rows rejected.');
  }, 60_000);

  it('exits 1 when the directory does not exist', async () => {
    const missing = await cli(['catalog:import', path.join(dir, 'nowhere')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Import failed: .*nowhere: no such directory/);
  }, 60_000);
});
