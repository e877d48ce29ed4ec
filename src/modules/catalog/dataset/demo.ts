import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { Deps } from '../../../platform/deps.js';
import { queryRows } from '../../../platform/db/client.js';
import { generateCatalog } from './generate.js';
import { importCatalog } from './import.js';

export const DEMO_PRODUCTS = 300;
export const DEMO_SEED = 'nexus-demo';

/**
 * DEMO_DATA on the embedded database: an empty catalog gets a small generated one at start-up
 * (always the same products). Does nothing on PostgreSQL, with DEMO_DATA=false, or when any
 * product exists (deleted ones included).
 */
export async function loadDemoCatalog(deps: Deps): Promise<void> {
  if (!deps.config.demoData || deps.database.kind !== 'pglite') return;
  const [row] = await queryRows<{ any: boolean }>(
    deps.db,
    sql`SELECT EXISTS (SELECT 1 FROM products) AS any`,
  );
  if (row?.any) return;

  const dir = await mkdtemp(path.join(tmpdir(), 'nexus-demo-catalog-'));
  try {
    await generateCatalog(dir, { products: DEMO_PRODUCTS, seed: DEMO_SEED });
    const summary = await importCatalog(deps, dir);
    deps.log.info(
      {
        categories: summary.categories.inserted,
        products: summary.products.inserted,
        variants: summary.variants.inserted,
        elapsedMs: summary.elapsedMs,
      },
      `demo data: loaded ${summary.products.inserted} demo products (DEMO_DATA=false turns this off)`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
