export { idempotencyJobs, PURGE_IDEMPOTENCY_KEYS, purgeIdempotencyKeys } from './purge.js';
export { canonicalJson, IDEMPOTENCY_KEY_HEADER, idempotencyKeyOf, requestFingerprint } from './request.js';
export {
  IDEMPOTENCY_LEASE_MS,
  IDEMPOTENCY_RETENTION_MS,
  REPLAYED_HEADER,
  respondIdempotently,
  type IdempotencyDeps,
  type IdempotentAnswer,
  type IdempotentWork,
} from './respond.js';
