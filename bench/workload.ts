/** SPEC §11's workload, plus C0: a trivial route of the same server, the ceiling the others are compared with. */
export interface Label {
  label: string;
  path: (firstProductId: string) => string;
  /** Product list queries, whose plans `--explain` prints. */
  list?: boolean;
}

export const WORKLOAD: Label[] = [
  { label: 'C0', path: () => '/health/live/' },
  { label: 'L1', path: () => '/api/products/', list: true },
  {
    label: 'L2',
    path: () => '/api/products/?min_price=10&max_price=50&category=electronics&ordering=-price',
    list: true,
  },
  { label: 'L3', path: () => '/api/products/?search=wireless&page=2&page_size=25', list: true },
  {
    label: 'L4',
    path: () => '/api/products/?created_after=2025-09-01T00:00:00Z&created_before=2025-09-30T23:59:59Z',
    list: true,
  },
  { label: 'L5', path: (id) => `/api/products/${id}/` },
];
