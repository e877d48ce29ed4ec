/**
 * SPEC §11's commerce labels: O1 (32 buyers on one hot variant), O2 (32 buyers, a variant each),
 * O3 (200 buyers for the last 10 units: a pass/fail check, not a speed) and C1 (a 5-line cart with
 * a coupon).
 * The bench makes its own buyers (`loadTestUsers`) and, through the API as staff, its own products.
 */
import { loadTestUsers } from '../src/modules/accounts/index.js';
import type { Deps } from '../src/deps.js';
import { measure, type Measurement } from './load.js';

export interface CommerceUsers {
  staff: string;
  buyers: string[];
}

const BUYERS = 32 + 200 + 1;

/** Buyers and a staff member, made in the database before the server starts. */
export async function makeCommerceUsers(deps: Deps): Promise<CommerceUsers> {
  const [staff] = await loadTestUsers(deps, 1, { staff: true, ttlSeconds: 4 * 3600 });
  const buyers = await loadTestUsers(deps, BUYERS, { ttlSeconds: 4 * 3600 });
  return { staff: staff!.token, buyers: buyers.map((b) => b.token) };
}

async function call(base: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : null) as Record<string, unknown> };
}

/** A product with one variant of `stock` units, made through the staff API. */
async function variantWith(
  base: string,
  staff: string,
  stock: number,
  tag: string,
): Promise<{ product: string; variant: string }> {
  const sku = `BENCH-${tag}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const product = await call(base, staff, 'POST', '/api/products/', {
    name: `Bench ${tag}`,
    slug: sku.toLowerCase(),
    sku,
    price: '4.99',
  });
  if (product.status !== 201)
    throw new Error(`creating a bench product: ${product.status} ${JSON.stringify(product.json)}`);
  const id = String(product.json.id);
  const variant = await call(base, staff, 'POST', `/api/products/${id}/variants/`, {
    name: 'Default',
    sku: `${sku}-V`,
    price: '4.99',
    stock,
  });
  if (variant.status !== 201)
    throw new Error(`creating a bench variant: ${variant.status} ${JSON.stringify(variant.json)}`);
  return { product: id, variant: String(variant.json.id) };
}

const ADDRESS = { line1: '1 Bench St', city: 'Springfield', postal_code: '12345', country: 'US' };
const order = (variant: string) => ({
  billing_first_name: 'Bench',
  billing_last_name: 'Buyer',
  billing_email: 'bench@load.invalid',
  billing_address: ADDRESS,
  shipping_address: ADDRESS,
  items: [{ variant, quantity: 1 }],
});

/**
 * A closed loop: each worker sends its next request when its last one answered, for `seconds`
 * after a warm-up. Each worker is one buyer, so "32 customers at once" holds exactly.
 */
async function closedLoop(workers: Array<() => Promise<number>>, seconds: number): Promise<Measurement> {
  const run = async (ms: number, record: boolean) => {
    const latencies: number[] = [];
    let non2xx = 0;
    let errors = 0;
    const end = performance.now() + ms;
    await Promise.all(
      workers.map(async (send) => {
        while (performance.now() < end) {
          const started = performance.now();
          try {
            const status = await send();
            if (status < 200 || status > 299) non2xx++;
          } catch {
            errors++;
          }
          if (record) latencies.push(performance.now() - started);
        }
      }),
    );
    return { latencies, non2xx, errors };
  };
  await run(Math.min(2, seconds) * 1000, false);
  const { latencies, non2xx, errors } = await run(seconds * 1000, true);
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  return {
    requests_per_second: Math.round(latencies.length / seconds),
    p50_ms: at(0.5),
    p99_ms: at(0.99),
    errors,
    non_2xx: non2xx,
  };
}

export interface CommerceResults {
  O1: Measurement;
  O2: Measurement;
  O3: { orders: number; refused: number; other: number; stock_left: number; pass: boolean };
  C1: Measurement;
}

export async function runCommerce(
  base: string,
  users: CommerceUsers,
  { connections, seconds, log }: { connections: number; seconds: number; log: (line: string) => void },
): Promise<CommerceResults> {
  const buyers = users.buyers.slice(0, connections);
  let reported = false;
  const post = (token: string, variant: string) => async () => {
    const res = await call(base, token, 'POST', '/api/orders/', order(variant));
    // One unexpected answer is shown, so a broken label says why instead of only counting.
    if (res.status !== 201 && res.status !== 409 && !reported) {
      reported = true;
      log(`unexpected answer to an order: ${res.status} ${JSON.stringify(res.json).slice(0, 300)}`);
    }
    return res.status;
  };

  const hot = await variantWith(base, users.staff, 1_000_000, 'hot');
  const O1 = await closedLoop(
    buyers.map((token) => post(token, hot.variant)),
    seconds,
  );
  log(
    `O1  ${O1.requests_per_second} orders/s  p50 ${O1.p50_ms} ms  p99 ${O1.p99_ms} ms  (${O1.non_2xx} non-2xx)`,
  );

  const own = await Promise.all(buyers.map((_, i) => variantWith(base, users.staff, 1_000_000, `own${i}`)));
  const O2 = await closedLoop(
    buyers.map((token, i) => post(token, own[i]!.variant)),
    seconds,
  );
  log(
    `O2  ${O2.requests_per_second} orders/s  p50 ${O2.p50_ms} ms  p99 ${O2.p99_ms} ms  (${O2.non_2xx} non-2xx)`,
  );

  const last = await variantWith(base, users.staff, 10, 'last10');
  const answers = await Promise.all(users.buyers.slice(32, 232).map((token) => post(token, last.variant)()));
  const detail = await call(base, users.staff, 'GET', `/api/products/${last.product}/`);
  const stockLeft = Number((detail.json.variants as Array<{ stock: number }>)[0]!.stock);
  const O3 = {
    orders: answers.filter((s) => s === 201).length,
    refused: answers.filter((s) => s === 409).length,
    other: answers.filter((s) => s !== 201 && s !== 409).length,
    stock_left: stockLeft,
    pass: false,
  };
  O3.pass = O3.orders === 10 && O3.refused === 190 && O3.other === 0 && stockLeft === 0;
  log(
    `O3  ${O3.pass ? 'PASS' : 'FAIL'}: ${O3.orders} orders, ${O3.refused} × 409, ${O3.other} other, stock ${stockLeft}`,
  );

  const shopper = users.buyers[232]!;
  for (let i = 0; i < 5; i++) {
    const { variant } = await variantWith(base, users.staff, 1000, `cart${i}`);
    const added = await call(base, shopper, 'POST', '/api/cart/items/', { variant, quantity: 1 + i });
    if (added.status !== 201) throw new Error(`filling the C1 cart: ${added.status}`);
  }
  const code = `BENCH${Date.now().toString(36).toUpperCase()}`;
  const coupon = await call(base, users.staff, 'POST', '/api/coupons/', {
    code,
    kind: 'percent',
    value: '12.5',
    max_uses_per_user: 1,
  });
  if (coupon.status !== 201) throw new Error(`creating the C1 coupon: ${coupon.status}`);
  const applied = await call(base, shopper, 'POST', '/api/cart/coupon/', { code });
  if (applied.status !== 200) throw new Error(`applying the C1 coupon: ${applied.status}`);
  const C1 = await measure(`${base}/api/cart/`, connections, seconds, { authorization: `Bearer ${shopper}` });
  log(`C1  ${C1.requests_per_second} req/s  p50 ${C1.p50_ms} ms  p99 ${C1.p99_ms} ms`);
  return { O1, O2, O3, C1 };
}
