export * from './filters.js';
export * from './list-query.js';
export * from './pagination.js';
