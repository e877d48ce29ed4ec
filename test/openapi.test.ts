import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';

interface Operation {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  requestBody?: unknown;
  responses?: Record<string, unknown>;
}

describe('OpenAPI document (SPEC §10)', () => {
  let t: TestApp;
  let doc: {
    openapi: string;
    paths: Record<string, Record<string, Operation>>;
    components: Record<string, any>;
  };
  beforeAll(async () => {
    t = await createTestApp();
    doc = (await t.app.inject({ method: 'GET', url: '/api/schema/' })).json();
  });
  afterAll(() => t.close());

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path, method, op })),
    );

  it('is OpenAPI 3.1 with bearer authentication', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('describes every route with a summary, tags and responses', () => {
    for (const path of ['/api/register/', '/api/auth/token/', '/api/users/{id}/', '/health/']) {
      expect(doc.paths).toHaveProperty([path]);
    }
    for (const { path, method, op } of operations()) {
      expect(op.summary, `${method} ${path}`).toBeTruthy();
      expect(op.tags?.length, `${method} ${path}`).toBeGreaterThan(0);
      expect(Object.keys(op.responses ?? {}).length, `${method} ${path}`).toBeGreaterThan(0);
    }
  });

  it('documents request bodies and error responses of the API routes', () => {
    for (const { path, method, op } of operations().filter(
      (o) => o.path.startsWith('/api/') && o.path !== '/api/schema/',
    )) {
      if (method === 'post' || method === 'patch') expect(op.requestBody, `${method} ${path}`).toBeDefined();
      expect(
        Object.keys(op.responses!).some((code) => code.startsWith('4')),
        `${method} ${path}`,
      ).toBe(true);
    }
  });

  it('marks the routes that need a signed-in user', () => {
    for (const path of ['/api/users/me/', '/api/users/', '/api/users/{id}/']) {
      for (const op of Object.values(doc.paths[path]!)) expect(op.security).toEqual([{ bearerAuth: [] }]);
    }
  });

  it('is served as YAML with ?format=yaml', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/schema/?format=yaml' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('yaml');
    expect(parse(res.body)).toEqual(doc);
  });
});
