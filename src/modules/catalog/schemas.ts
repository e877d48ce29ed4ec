import { Type } from 'typebox';
import { SLUG_PATTERN } from './slugs.js';

const Slug = Type.String({
  minLength: 1,
  maxLength: 50,
  pattern: SLUG_PATTERN,
  'x-error': 'Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.',
});
/** DRF's DecimalField takes a JSON number or a numeric string; answers are always strings. */
const Decimal = Type.Union([Type.Number(), Type.String({ maxLength: 20 })], { examples: ['19.99'] });
const JsonObject = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), { maxProperties: 50 });
const Timestamp = Type.String({ format: 'date-time' });
const Money = Type.String({ examples: ['19.99'] });

export const CategoryBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    slug: Type.Optional(Slug),
    description: Type.Optional(Type.String({ maxLength: 5000 })),
    parent: Type.Optional(Type.Union([Type.String({ format: 'uuid' }), Type.Null()])),
    is_active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const CategoryPatch = Type.Partial(CategoryBody, { additionalProperties: false });

export const CategoryOut = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  slug: Type.String(),
  description: Type.String(),
  parent: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  is_active: Type.Boolean(),
  created_at: Timestamp,
});

export const CategoryTreeNode = Type.Cyclic(
  {
    Node: Type.Object({
      ...CategoryOut.properties,
      children: Type.Array(Type.Ref('Node')),
    }),
  },
  'Node',
);

export const ProductBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    slug: Type.Optional(Slug),
    description: Type.Optional(Type.String({ maxLength: 20_000 })),
    short_description: Type.Optional(Type.String({ maxLength: 300 })),
    sku: Type.String({ minLength: 1, maxLength: 100 }),
    price: Decimal,
    compare_price: Type.Optional(Type.Union([Decimal, Type.Null()])),
    categories: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 50 }), {
        maxItems: 20,
        description: 'Category ids or slugs.',
      }),
    ),
    attributes: Type.Optional(JsonObject),
    is_active: Type.Optional(Type.Boolean()),
    is_digital: Type.Optional(Type.Boolean()),
    weight: Type.Optional(Type.Union([Decimal, Type.Null()])),
    dimensions: Type.Optional(Type.Union([JsonObject, Type.Null()])),
  },
  { additionalProperties: false },
);
export const ProductPatch = Type.Partial(ProductBody, { additionalProperties: false });

export const ProductListItem = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  slug: Type.String(),
  short_description: Type.String(),
  sku: Type.String(),
  price: Money,
  compare_price: Type.Union([Money, Type.Null()]),
  is_active: Type.Boolean(),
  is_digital: Type.Boolean(),
  in_stock: Type.Boolean(),
  created_at: Timestamp,
});

export const VariantBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    sku: Type.String({ minLength: 1, maxLength: 100 }),
    price: Decimal,
    attributes: Type.Optional(JsonObject),
    is_active: Type.Optional(Type.Boolean()),
    stock: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_000_000_000 })),
    low_stock_threshold: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_000_000_000 })),
  },
  { additionalProperties: false },
);
export const VariantPatch = Type.Partial(VariantBody, { additionalProperties: false });

export const VariantOut = Type.Object({
  id: Type.String({ format: 'uuid' }),
  product: Type.String({ format: 'uuid' }),
  name: Type.String(),
  sku: Type.String(),
  price: Money,
  attributes: Type.Record(Type.String(), Type.Unknown()),
  is_active: Type.Boolean(),
  in_stock: Type.Boolean(),
  stock: Type.Optional(Type.Integer({ description: 'Staff only.' })),
  low_stock_threshold: Type.Optional(Type.Integer({ description: 'Staff only.' })),
  created_at: Timestamp,
});

export const ImageOut = Type.Object({
  id: Type.String({ format: 'uuid' }),
  product: Type.String({ format: 'uuid' }),
  image: Type.String({ format: 'uri' }),
  thumbnail: Type.String({ format: 'uri' }),
  alt_text: Type.String(),
  width: Type.Integer(),
  height: Type.Integer(),
  position: Type.Integer(),
  created_at: Timestamp,
});

export const ProductDetail = Type.Object({
  ...ProductListItem.properties,
  description: Type.String(),
  categories: Type.Array(CategoryOut),
  attributes: Type.Record(Type.String(), Type.Unknown()),
  weight: Type.Union([Money, Type.Null()]),
  dimensions: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  variants: Type.Array(VariantOut),
  images: Type.Array(ImageOut),
  updated_at: Timestamp,
  deleted_at: Type.Optional(Type.Union([Timestamp, Type.Null()], { description: 'Staff only.' })),
});
