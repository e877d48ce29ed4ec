/** The cache scope of everything the catalog serves: any catalog write makes every cached list stale. */
export const CATALOG_SCOPE = 'catalog';
