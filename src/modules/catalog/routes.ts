import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Deps } from '../../platform/deps.js';
import { staffOnly } from '../../platform/auth.js';
import { errors } from '../../platform/http/schemas.js';
import { listQuerySchema, pageSchema } from '../../platform/list/index.js';
import { CATALOG_SCOPE } from './cache.js';
import {
  categoryListSpec,
  categoryTree,
  categoryView,
  createCategory,
  deleteCategory,
  findCategory,
  listCategories,
  updateCategory,
} from './categories.js';
import { productDetail } from './product-detail.js';
import { listProducts, productListSpec } from './product-list.js';
import { createProduct, deleteProduct, findProduct, updateProduct, variantView } from './products.js';
import {
  CategoryBody,
  CategoryOut,
  CategoryPatch,
  CategoryTreeNode,
  ProductBody,
  ProductDetail,
  ProductListItem,
  ProductPatch,
  VariantBody,
  VariantOut,
  VariantPatch,
} from './schemas.js';
import { createVariant, deleteVariant, findVariant, listVariants, updateVariant } from './variants.js';

const productsThrottle = { throttle: { scope: 'products' } };
const bearer = [{ bearerAuth: [] }];
const IdOrSlug = Type.Object({ id: Type.String({ maxLength: 100, description: 'Id or slug.' }) });
const Id = Type.Object({ id: Type.String({ maxLength: 100 }) });

const isStaff = (request: FastifyRequest) => request.principal?.isStaff === true;

export function catalogRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const staffWrite = (summary: string) => ({ tags: ['catalog'], summary, security: bearer });

  // ---- categories ----
  r.get(
    '/api/categories/',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Categories, flat and paginated (the public sees active ones)',
        querystring: listQuerySchema(categoryListSpec(true)),
        response: { 200: pageSchema(CategoryOut), ...errors(400, 404, 429) },
      },
    },
    (request) => listCategories(deps, request, isStaff(request)),
  );

  r.get(
    '/api/categories/tree/',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Every category as a tree',
        response: { 200: Type.Array(CategoryTreeNode), ...errors(429) },
      },
    },
    (request) => categoryTree(deps, isStaff(request)),
  );

  r.get(
    '/api/categories/:id/',
    {
      schema: {
        tags: ['catalog'],
        summary: 'One category, by id or slug',
        params: IdOrSlug,
        response: { 200: CategoryOut, ...errors(404, 429) },
      },
    },
    async (request) => categoryView(await findCategory(deps, request.params.id, isStaff(request))),
  );

  r.post(
    '/api/categories/',
    {
      preValidation: staffOnly,
      schema: {
        ...staffWrite('Create a category (staff)'),
        body: CategoryBody,
        response: { 201: CategoryOut, ...errors(400, 401, 403, 429) },
      },
    },
    async (request, reply) => reply.code(201).send(categoryView(await createCategory(deps, request.body))),
  );

  for (const method of ['put', 'patch'] as const) {
    r[method](
      '/api/categories/:id/',
      {
        preValidation: staffOnly,
        schema: {
          ...staffWrite(method === 'put' ? 'Replace a category (staff)' : 'Edit a category (staff)'),
          params: IdOrSlug,
          body: method === 'put' ? CategoryBody : CategoryPatch,
          response: { 200: CategoryOut, ...errors(400, 401, 403, 404, 429) },
        },
      },
      async (request) => {
        const category = await findCategory(deps, request.params.id, true);
        return categoryView(await updateCategory(deps, category, request.body));
      },
    );
  }

  r.delete(
    '/api/categories/:id/',
    {
      preValidation: staffOnly,
      schema: {
        ...staffWrite('Delete a category without sub-categories or products (staff); 409 otherwise'),
        params: IdOrSlug,
        response: { 204: Type.Null(), ...errors(401, 403, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      await deleteCategory(deps, await findCategory(deps, request.params.id, true));
      return reply.code(204).send(null);
    },
  );

  // ---- products ----
  r.get(
    '/api/products/',
    {
      config: productsThrottle,
      schema: {
        tags: ['catalog'],
        summary: 'Products: filter, search, order, paginate (cached; the public sees live, active ones)',
        querystring: Type.Object(
          {
            ...listQuerySchema(productListSpec(true)).properties,
            include_deleted: Type.Optional(
              Type.String({ description: 'Staff: true to list deleted products too.' }),
            ),
          },
          { additionalProperties: true },
        ),
        response: { 200: pageSchema(ProductListItem), ...errors(400, 404, 429) },
      },
    },
    (request, reply) => {
      const staff = isStaff(request);
      return deps.responseCache.serve(
        request,
        reply,
        {
          scopes: [CATALOG_SCOPE],
          ttlSeconds: deps.config.cache.productsTtlSeconds,
          audience: staff ? 'staff' : 'public',
        },
        () => listProducts(deps, request, staff),
      );
    },
  );

  r.get(
    '/api/products/:id/',
    {
      config: productsThrottle,
      schema: {
        tags: ['catalog'],
        summary: 'One product by id or slug, with categories, variants and images',
        params: IdOrSlug,
        response: { 200: ProductDetail, ...errors(404, 429) },
      },
    },
    (request) => productDetail(deps, request.params.id, isStaff(request)),
  );

  r.post(
    '/api/products/',
    {
      config: productsThrottle,
      preValidation: staffOnly,
      schema: {
        ...staffWrite('Create a product (staff)'),
        body: ProductBody,
        response: { 201: ProductDetail, ...errors(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      const product = await createProduct(deps, request.body);
      return reply.code(201).send(await productDetail(deps, product.id, true));
    },
  );

  for (const method of ['put', 'patch'] as const) {
    r[method](
      '/api/products/:id/',
      {
        config: productsThrottle,
        preValidation: staffOnly,
        schema: {
          ...staffWrite(method === 'put' ? 'Replace a product (staff)' : 'Edit a product (staff)'),
          params: IdOrSlug,
          body: method === 'put' ? ProductBody : ProductPatch,
          response: { 200: ProductDetail, ...errors(400, 401, 403, 404, 429) },
        },
      },
      async (request) => {
        const product = await findProduct(deps.db, request.params.id, true, { live: true });
        await updateProduct(deps, product, request.body);
        return productDetail(deps, product.id, true);
      },
    );
  }

  r.delete(
    '/api/products/:id/',
    {
      config: productsThrottle,
      preValidation: staffOnly,
      schema: {
        ...staffWrite('Delete a product (staff): hidden, kept for orders'),
        params: IdOrSlug,
        response: { 204: Type.Null(), ...errors(401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      await deleteProduct(deps, await findProduct(deps.db, request.params.id, true, { live: true }));
      return reply.code(204).send(null);
    },
  );

  // ---- variants ----
  r.get(
    '/api/products/:id/variants/',
    {
      config: productsThrottle,
      preValidation: staffOnly,
      schema: {
        ...staffWrite('Variants of a product, with stock (staff)'),
        params: IdOrSlug,
        response: { 200: Type.Array(VariantOut), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const product = await findProduct(deps.db, request.params.id, true);
      return (await listVariants(deps, product)).map((v) => variantView(v, true));
    },
  );

  r.post(
    '/api/products/:id/variants/',
    {
      config: productsThrottle,
      preValidation: staffOnly,
      schema: {
        ...staffWrite('Add a variant (staff)'),
        params: IdOrSlug,
        body: VariantBody,
        response: { 201: VariantOut, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const product = await findProduct(deps.db, request.params.id, true, { live: true });
      return reply.code(201).send(variantView(await createVariant(deps, product, request.body), true));
    },
  );

  r.patch(
    '/api/variants/:id/',
    {
      config: productsThrottle,
      preValidation: staffOnly,
      schema: {
        ...staffWrite('Edit a variant, its price or stock (staff)'),
        params: Id,
        body: VariantPatch,
        response: { 200: VariantOut, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const variant = await findVariant(deps, request.params.id);
      return variantView(await updateVariant(deps, variant, request.body), true);
    },
  );

  r.delete(
    '/api/variants/:id/',
    {
      config: productsThrottle,
      preValidation: staffOnly,
      schema: {
        ...staffWrite('Delete a variant (staff): hidden, kept for orders'),
        params: Id,
        response: { 204: Type.Null(), ...errors(401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      await deleteVariant(deps, await findVariant(deps, request.params.id));
      return reply.code(204).send(null);
    },
  );

  return Promise.resolve();
}
