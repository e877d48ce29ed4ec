import type { Config } from '../../config.js';
import { confirmationEmail, statusEmail, STATUS_EMAILS } from './emails.js';
import type { OrderView } from './schemas.js';

const address = { line1: '1 Main St', city: 'Springfield', postal_code: '12345', country: 'US' };
const at = '2026-01-15T10:00:00.000000Z';
// The view's status types are TypeBox's (a union it cannot narrow), hence the cast.
const sample = {
  id: '00000000-0000-4000-8000-000000000001',
  order_number: 'NX-7KQ2M9',
  user: 1,
  status: 'pending',
  subtotal: '59.97',
  discount_amount: '6.00',
  tax_amount: '0.00',
  shipping_amount: '0.00',
  total_amount: '53.97',
  currency: 'USD',
  coupon_code: 'SAVE10',
  billing_first_name: 'Ada',
  billing_last_name: 'Lovelace',
  billing_email: 'ada@example.com',
  billing_phone: '',
  billing_address: address,
  shipping_first_name: 'Ada',
  shipping_last_name: 'Lovelace',
  shipping_address: address,
  notes: '',
  items: [
    {
      id: '00000000-0000-4000-8000-000000000002',
      product_variant: '00000000-0000-4000-8000-000000000003',
      product: '00000000-0000-4000-8000-000000000004',
      name: 'Wireless Headphones — Black',
      sku: 'WH-1000-BLK',
      quantity: 3,
      unit_price: '19.99',
      total_price: '59.97',
    },
  ],
  history: [{ from: null, to: 'pending', at, by: 1, reason: 'order placed' }],
  created_at: at,
  updated_at: at,
} as unknown as OrderView;

export const orderMailPreviews = (config: Config) => [
  { name: 'order_confirmation', message: confirmationEmail(sample, config.shopName) },
  ...STATUS_EMAILS.map((status) => ({
    name: `order_${status}`,
    message: statusEmail({ ...sample, status } as OrderView, status, config.shopName),
  })),
];
