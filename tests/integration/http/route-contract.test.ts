/**
 * The route contract: every /api/v1 route declares its roles and every route documents its
 * responses, and the OpenAPI document at /docs/json lists every route with its schemas.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.close();
});

const apiRoutes = () => h.app.gridwatchRoutes.filter((r) => r.url.startsWith('/api/v1'));
const openApiPath = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}');

describe('route contract', () => {
  it('registers the expected API surface', () => {
    const listed = apiRoutes().map((r) => `${r.method} ${r.url}`).sort();
    expect(listed).toEqual(
      [
        'GET /api/v1/kinds',
        'GET /api/v1/kinds/:id',
        'POST /api/v1/devices',
        'GET /api/v1/devices',
        'GET /api/v1/devices/:id',
        'GET /api/v1/devices/:id/readings',
        'GET /api/v1/devices/:id/events',
        'GET /api/v1/streets',
        'GET /api/v1/communities',
        'GET /api/v1/grids',
        'GET /api/v1/buildings',
        'GET /api/v1/buildings/:id',
        'GET /api/v1/hierarchy',
        'GET /api/v1/people',
        'GET /api/v1/dead-letters',
        'POST /api/v1/tokens',
        'GET /api/v1/tokens',
        'DELETE /api/v1/tokens/:id',
        'GET /api/v1/alerts',
        'GET /api/v1/alerts/:id',
        'POST /api/v1/alerts/:id/ack',
        'POST /api/v1/alerts/:id/shelve',
        'POST /api/v1/alerts/:id/unshelve',
        'POST /api/v1/alerts/:id/disable',
        'POST /api/v1/alerts/:id/enable',
        'POST /api/v1/alerts/:id/reset',
        'GET /api/v1/devices/:id/rules',
        'PUT /api/v1/devices/:id/rules',
        'GET /api/v1/buildings/:id/rules',
        'PUT /api/v1/buildings/:id/rules',
        'GET /api/v1/events',
        'GET /api/v1/audit',
        'GET /api/v1/cases',
        'GET /api/v1/cases/:id',
        'POST /api/v1/cases',
        'POST /api/v1/cases/:id/transitions',
        'GET /api/v1/kpis',
        'GET /api/v1/reports/:period',
        'GET /api/v1/me',
      ].sort(),
    );
  });

  it('every /api/v1 route declares a non-empty list of roles', () => {
    const missing = apiRoutes().filter((r) => r.roles === undefined || r.roles.length === 0);
    expect(missing).toEqual([]);
  });

  it('no route outside the docs UI lacks a response schema', () => {
    const own = h.app.gridwatchRoutes.filter((r) => !r.url.startsWith('/docs'));
    expect(own.length).toBeGreaterThan(18);
    expect(own.filter((r) => !r.hasResponseSchema)).toEqual([]);
  });

  it('answers without a token only on the listed public routes (health, metrics, the ack link, the console page) and the docs UI', () => {
    const open = h.app.gridwatchRoutes
      .filter((r) => r.roles === undefined || r.roles.length === 0)
      .filter((r) => r.url !== '/docs' && !r.url.startsWith('/docs/'))
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    expect(open).toEqual(['GET /', 'GET /ack/:token', 'GET /console/:file', 'GET /health', 'GET /metrics', 'POST /ack/:token']);
  });

  it('refuses at start-up a route outside /api/v1 without roles unless it is exactly a listed public route', async () => {
    const { buildHttpApp } = await import('../../../gateway/src/adapters/http/app.js');
    const extra = await buildHttpApp(depsOf(h));
    const schema = { response: { 200: { type: 'object' } } };
    for (const url of ['/ack', '/ack/:token/extra', '/acknowledge/:token', '/healthz', '/console']) {
      expect(() => extra.get(url, { schema }, async () => ({})), url).toThrow(/must declare config.roles/);
    }
    // Same path, another method: not public.
    expect(() => extra.delete('/ack/:token', { schema }, async () => ({}))).toThrow(/must declare config.roles/);
    expect(() => extra.put('/health', { schema }, async () => ({}))).toThrow(/must declare config.roles/);
    await extra.close();
  });

  it('refuses at start-up an /api/v1 route without roles or without response schemas', async () => {
    // The same onRoute contract, exercised on routes added after the factory returns.
    const { buildHttpApp } = await import('../../../gateway/src/adapters/http/app.js');
    const extra = await buildHttpApp(depsOf(h));
    expect(() =>
      extra.get('/api/v1/no-roles', { schema: { response: { 200: { type: 'object' } } } }, async () => ({})),
    ).toThrow(/must declare config.roles/);
    expect(() => extra.get('/api/v1/no-schema', { config: { roles: ['admin'] } }, async () => ({}))).toThrow(
      /must declare response schemas/,
    );
    await extra.close();
  });
});

describe('OpenAPI at /docs/json', () => {
  it('is an OpenAPI 3 document with every route, its responses and bearer security', async () => {
    const res = await h.request('GET', '/docs/json');
    expect(res.statusCode).toBe(200);
    const doc = res.json() as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<string, Record<string, { responses: Record<string, { description: string; content?: unknown }>; security?: unknown; tags?: string[]; parameters?: unknown[] }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toMatch(/^3\.0\.\d$/);
    expect(doc.info.title).toBe('gridwatch API');
    expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: 'http', scheme: 'bearer' });
    for (const route of h.app.gridwatchRoutes.filter((r) => !r.url.startsWith('/docs'))) {
      const op = doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.url}`).toBeDefined();
      if (op === undefined) continue;
      expect(op.tags?.length, `${route.url} is tagged`).toBeGreaterThan(0);
      const codes = Object.keys(op.responses);
      expect(codes.some((c) => /^2\d\d$/.test(c)), `${route.url} has a success response`).toBe(true);
      for (const r of Object.values(op.responses)) expect(typeof r.description).toBe('string');
      if (route.url.startsWith('/api/v1')) {
        expect(op.security).toEqual([{ bearerAuth: [] }]);
        for (const c of ['401', '403', '429']) expect(codes).toContain(c);
      }
    }
    // The docs' own routes stay out of the document.
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/docs'))).toEqual([]);
  });

  it('documents query and path parameters', async () => {
    const doc = (await h.request('GET', '/docs/json')).json() as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
    };
    const readings = doc.paths['/api/v1/devices/{id}/readings']?.get?.parameters ?? [];
    expect(readings.map((p) => `${p.in}:${p.name}`).sort()).toEqual(
      ['path:id', 'query:cursor', 'query:from', 'query:limit', 'query:measurement', 'query:to'].sort(),
    );
  });

  it('serves the docs UI from local files (works offline)', async () => {
    const index = await h.request('GET', '/docs');
    expect(index.statusCode).toBe(200);
    expect(index.body).toContain('swagger-ui-bundle.js');
    expect(index.body).not.toMatch(/<script[^>]+src="https?:/);
    const bundle = await h.request('GET', '/docs/static/swagger-ui-bundle.js');
    expect(bundle.statusCode).toBe(200);
    expect(bundle.body.length).toBeGreaterThan(100_000);
  });
});

function depsOf(harness: Harness) {
  // A second app over the same stores: only the route contract matters here.
  return {
    clock: harness.clock,
    site: harness.site,
    tokens: harness.site,
    timeSeries: harness.series,
    deadLetters: harness.deadLetters,
    kinds: [],
    deviceState: () => undefined,
    registerDevice: async () => {
      throw new Error('not used');
    },
    health: () => harness.health.report,
    metricsText: async () => '',
    mqtt: { topicRoot: 'gridwatch/v1', tcpUrl: null, webSocketPath: null },
    alerts: harness.alerts,
    rules: harness.rules,
    events: harness.events,
    audit: harness.audit,
    cases: harness.cases,
  };
}
