import type { AppModule } from '../types.js';
import { loadDemoCatalog } from './dataset/demo.js';
import { imageRoutes } from './image-routes.js';
import { catalogRoutes } from './routes.js';

/** Categories, products, variants and their images; the CSV import and the demo catalog. */
export const catalog: AppModule = {
  name: 'catalog',
  routes: async (app, deps) => {
    await catalogRoutes(app, deps);
    await imageRoutes(app, deps);
  },
  onStart: loadDemoCatalog,
};

export { generateCatalog, type GenerateOptions } from './dataset/generate.js';
export {
  CatalogFileError,
  importCatalog,
  type FileSummary,
  type ImportProgress,
  type ImportSummary,
} from './dataset/import.js';
export {
  returnStock,
  takeStock,
  variantsForSale,
  type SaleVariant,
  type Shortage,
  type StockOutcome,
  type StockRequest,
} from './stock.js';
// For notifications.
export { claimLowStockVariants, type LowStockVariant } from './low-stock.js';
