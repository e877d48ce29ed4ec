import type { Config } from '../../config.js';
import { abandonedCartEmail } from './abandoned-carts.js';
import { lowStockEmail } from './low-stock.js';

const staff = { id: 1, email: 'staff@example.com', name: 'Grace' };
const line = (sku: string, name: string, quantity: number, price: string, total: string) => ({
  id: sku,
  variant: {
    id: sku,
    sku,
    name,
    price,
    product: { id: sku, name: 'Wireless Headphones', slug: 'wireless-headphones' },
  },
  quantity,
  unit_price: price,
  line_total: total,
  available: true,
});

export const notificationMailPreviews = (config: Config) => [
  {
    name: 'abandoned_cart',
    message: abandonedCartEmail(
      { id: 2, email: 'ada@example.com', name: 'Ada' },
      {
        items: [
          line('WH-1000-BLK', 'Black', 1, '19.99', '19.99'),
          line('WH-1000-WHT', 'White', 2, '19.99', '39.98'),
        ],
        item_count: 3,
        total_amount: '59.97',
      },
      config,
    ),
  },
  {
    name: 'low_stock_alert',
    message: lowStockEmail(
      staff,
      [
        {
          variantId: 'a',
          product: 'Wireless Headphones',
          variant: 'Black',
          sku: 'WH-1000-BLK',
          stock: 2,
          threshold: 5,
        },
        {
          variantId: 'b',
          product: 'Wireless Headphones',
          variant: 'White',
          sku: 'WH-1000-WHT',
          stock: 0,
          threshold: 5,
        },
      ],
      config.shopName,
    ),
  },
];
