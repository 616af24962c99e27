/**
 * The error catalog: every error answer has the catalog shape, including fastify's own 404s,
 * validation and body-parsing errors, and every code is documented in the README.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../../../gateway/src/adapters/http/errors.js';
import { createHarness, type Harness } from './harness.js';

const README = new URL('../../../gateway/src/adapters/http/README.md', import.meta.url);

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

const shape = { error: { code: expect.stringMatching(/^GW_[A-Z_]+$/), message: expect.any(String) } };

describe('error catalog', () => {
  it('every code is documented in the README table with its status (drift test)', () => {
    const text = readFileSync(README, 'utf8');
    const rows = new Map<string, number>();
    for (const m of text.matchAll(/^\| `(GW_[A-Z_]+)` \| (\d{3}) \|/gm)) rows.set(m[1] as string, Number(m[2]));
    for (const [code, { status }] of Object.entries(ERROR_CATALOG)) {
      expect(rows.get(code), `${code} in README`).toBe(status);
    }
    // And the README documents no code the catalog lacks.
    expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_CATALOG).sort());
  });

  it('codes are stable-looking and statuses are error statuses', () => {
    for (const [code, { status, message }] of Object.entries(ERROR_CATALOG)) {
      expect(code).toMatch(/^GW_[A-Z_]+$/);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(message.length).toBeGreaterThan(0);
    }
  });
});

describe('every error answer has the catalog shape', () => {
  it('404 for an unknown route and an unknown resource', async () => {
    for (const [url, token] of [['/api/v1/nothing-here', h.tokens.admin], ['/favicon.ico', undefined], ['/api/v1/devices/ghost', h.tokens.admin]] as const) {
      const res = await h.request('GET', url, token);
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json()).toMatchObject(shape);
      expect(res.json().error.code).toBe('GW_NOT_FOUND');
    }
    const method = await h.request('PATCH', '/api/v1/devices', h.tokens.admin);
    expect(method.statusCode).toBe(404);
    expect(method.json().error.code).toBe('GW_NOT_FOUND');
  });

  it('400 for schema violations, with details naming the field', async () => {
    const res = await h.request('POST', '/api/v1/devices', h.tokens.admin, { id: 'ok-1', kind: 'smoke', buildingId: 'b1', floor: 1.5 });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('GW_VALIDATION');
    expect(error.details.length).toBeGreaterThan(0);
    for (const d of error.details) expect(d).toEqual(expect.objectContaining({ path: '/body/floor', message: expect.any(String) }));
    const query = await h.request('GET', '/api/v1/devices?limit=abc', h.tokens.admin);
    expect(query.statusCode).toBe(400);
    expect(query.json().error.details[0].path).toBe('/querystring/limit');
  });

  it('400 GW_BAD_REQUEST for malformed JSON, 415 for another media type, 413 for a huge body', async () => {
    const inject = (payload: string, contentType: string) =>
      h.app.inject({
        method: 'POST',
        url: '/api/v1/devices',
        headers: { authorization: `Bearer ${h.tokens.admin}`, 'content-type': contentType },
        payload,
      });
    const malformed = await inject('{"id": ', 'application/json');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ error: { code: 'GW_BAD_REQUEST' } });
    const text = await inject('id=x', 'text/plain');
    expect(text.statusCode).toBe(415);
    expect(text.json()).toMatchObject({ error: { code: 'GW_UNSUPPORTED_MEDIA_TYPE' } });
    const huge = await inject(JSON.stringify({ id: 'x', kind: 'smoke', buildingId: 'b1', name: 'n'.repeat(70_000) }), 'application/json');
    expect(huge.statusCode).toBe(413);
    expect(huge.json()).toMatchObject({ error: { code: 'GW_PAYLOAD_TOO_LARGE' } });
  });

  it('401, 403, 409 and 429', async () => {
    const unauthorized = await h.request('GET', '/api/v1/devices');
    expect(unauthorized.json()).toEqual({ error: { code: 'GW_UNAUTHORIZED', message: expect.any(String) } });
    const forbidden = await h.request('GET', '/api/v1/tokens', h.tokens.captain);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toEqual({ error: { code: 'GW_FORBIDDEN', message: "Role 'captain' may not use this route", details: { allowedRoles: ['admin'] } } });
    const body = { id: 'smoke-b1-01', kind: 'smoke', buildingId: 'b1' };
    const conflict = await h.request('POST', '/api/v1/devices', h.tokens.admin, body);
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({ error: { code: 'GW_CONFLICT' } });
    for (let i = 0; i < 10; i++) await h.request('GET', '/api/v1/devices', `gw_wrong_${i}`);
    const limited = await h.request('GET', '/api/v1/devices', h.tokens.admin);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ error: { code: 'GW_RATE_LIMITED' } });
    expect(Number(limited.headers['retry-after'])).toBe(60);
  });

  it('500 GW_INTERNAL for an unexpected failure, without leaking its message', async () => {
    const broken = await createHarness({}, {
      registerDevice: async () => {
        throw new Error('disk I/O error at /var/lib/gridwatch/secret-path');
      },
    });
    try {
      const res = await broken.request('POST', '/api/v1/devices', broken.tokens.admin, { id: 'x-1', kind: 'smoke', buildingId: 'b1' });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ error: { code: 'GW_INTERNAL', message: 'Internal error' } });
    } finally {
      await broken.close();
    }
  });
});
