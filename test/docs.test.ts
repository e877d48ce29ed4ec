import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const HEALTH_SUMMARY = 'Health of the database, the cache and the job queue';

interface PageVisit {
  page: Page;
  /** Every URL the page asked for, its scripts, styles, images, XHRs and workers included. */
  requests: string[];
  /** Console errors and uncaught exceptions. */
  errors: string[];
  /** Same-origin responses with a 4xx or 5xx status. */
  failedResponses: string[];
}

/** The origin of `url`, or null for data: URLs (which fetch nothing); a blob: URL has its creator's origin. */
function originOf(url: string): string | null {
  const parsed = new URL(url);
  if (parsed.protocol === 'data:') return null;
  return parsed.origin;
}

describe.skipIf(!hasChromium)(
  hasChromium
    ? 'API docs in headless Chromium'
    : `API docs in headless Chromium (skipped: ${CHROMIUM} not installed)`,
  () => {
    let testApp: TestApp;
    let browser: Browser;
    let origin: string;

    beforeAll(async () => {
      testApp = await createTestApp();
      await testApp.app.listen({ port: 0, host: '127.0.0.1' });
      origin = `http://127.0.0.1:${(testApp.app.server.address() as AddressInfo).port}`;
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
    });

    afterAll(async () => {
      await browser?.close();
      await testApp?.close();
    });

    /** Opens `path` in a fresh context, records what it does, and returns once `rendered` resolves and the network is idle. */
    async function openDocs(path: string, rendered: (page: Page) => Promise<void>): Promise<PageVisit> {
      // A context of its own, so its `request` event also sees what workers fetch.
      const context = await browser.newContext();
      const page = await context.newPage();
      const visit: PageVisit = { page, requests: [], errors: [], failedResponses: [] };
      context.on('request', (request) => void visit.requests.push(request.url()));
      page.on('console', (message) => {
        if (message.type() === 'error') visit.errors.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (error) => void visit.errors.push(`page error: ${error.message}`));
      page.on('response', (response) => {
        if (response.status() >= 400) visit.failedResponses.push(`${response.status()} ${response.url()}`);
      });

      const response = await page.goto(origin + path);
      expect(response?.status()).toBe(200);
      await rendered(page);
      // Let anything started by rendering (images, workers, lazy chunks) be requested before judging.
      await page.waitForLoadState('networkidle');
      if (visit.errors.length) console.warn(`${path} logged:\n  ${visit.errors.join('\n  ')}`);
      return visit;
    }

    function expectOnlyOwnOrigin(visit: PageVisit) {
      expect(visit.requests.length).toBeGreaterThan(0);
      const foreign = visit.requests.filter((url) => {
        const requestOrigin = originOf(url);
        return requestOrigin !== null && requestOrigin !== origin;
      });
      expect(foreign, `requests to origins other than ${origin}`).toEqual([]);
    }

    function expectNothingBlocked(visit: PageVisit) {
      // Chromium reports every resource the Content-Security-Policy refused as a console error.
      const blocked = visit.errors.filter((error) => /Content Security Policy/i.test(error));
      expect(blocked, 'resources blocked by the Content-Security-Policy').toEqual([]);
      expect(visit.errors.filter((error) => error.startsWith('page error:'))).toEqual([]);
      expect(visit.failedResponses).toEqual([]);
    }

    it('Swagger UI lists the operations and requests nothing from another origin', async () => {
      const healthPath = '.opblock-summary-path[data-path="/health/"]';
      const visit = await openDocs('/api/docs/swagger/', async (page) => {
        await page.locator(healthPath).first().waitFor({ state: 'visible', timeout: 20_000 });
      });
      const { page } = visit;

      expect(await page.locator(healthPath).count()).toBeGreaterThanOrEqual(1);
      const operation = page.locator('.opblock', { has: page.locator(healthPath) }).first();
      expect(await operation.locator('.opblock-summary-method').textContent()).toBe('GET');
      expect(await operation.locator('.opblock-summary-description').textContent()).toBe(HEALTH_SUMMARY);
      expect(await page.locator('.opblock').count()).toBeGreaterThan(1);

      expectOnlyOwnOrigin(visit);
      expect(visit.requests).toContain(`${origin}/api/docs/swagger/json`);
      expectNothingBlocked(visit);
      await page.context().close();
    });

    it('ReDoc lists the operations and requests nothing from another origin', async () => {
      // ReDoc gives each operation a section whose id encodes its path (`/` is `~1`).
      const healthSection = '[data-section-id$="/paths/~1health~1/get"]';
      const visit = await openDocs('/api/docs/redoc/', async (page) => {
        await page
          .locator(healthSection)
          .locator('h2', { hasText: HEALTH_SUMMARY })
          .waitFor({ state: 'visible', timeout: 20_000 });
      });
      const { page } = visit;

      const section = page.locator(healthSection);
      expect(await section.count()).toBe(1);
      expect(await section.textContent()).toContain('/health/');
      expect(await page.getByRole('menuitem', { name: HEALTH_SUMMARY, includeHidden: true }).count()).toBe(1);
      expect(await page.locator('[data-section-id*="/paths/"]').count()).toBeGreaterThan(1);

      expectOnlyOwnOrigin(visit);
      expect(visit.requests).toContain(`${origin}/api/schema/`);
      expectNothingBlocked(visit);
      await page.context().close();
    });
  },
);
