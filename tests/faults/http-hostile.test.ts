/**
 * Hostile HTTP input against every route the gateway registers (read from the app itself, so a
 * route added later is covered too): path traversal and junk in ids, huge and nonsensical query
 * values, invalid JSON, wrong types, deep nesting, oversize bodies, wrong content types. Every
 * answer is below 500; every 4xx from the API carries the error format `{ error: { code, message } }`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startHarness, type Harness } from '../support/gateway-harness.js';
import { addTo, report } from './support/figures.js';

const HOSTILE_IDS = [
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '..%5C..%5Cwindows%5Cwin.ini',
  '%2e%2e',
  '%00',
  'a%00b',
  'x'.repeat(4000),
  '%E0%A4%A',
  "'%3B%20DROP%20TABLE%20devices%3B--",
  '%F0%9F%94%A5',
  '%7B%7B7*7%7D%7D',
  '-1',
  '1e309',
];

const HOSTILE_QUERIES = [
  'limit=1e309',
  'limit=-1',
  'limit=99999999999999999999999',
  `cursor=${'A'.repeat(8000)}`,
  'cursor=%00%FF',
  'from=NaN&to=-Infinity',
  'from=99999999999999999999999999&to=0',
  'since=2999-13-45T99:99:99Z',
  'measurement=..%2F..%2F&state=__proto__&class=%00',
  'deviceId[]=a&deviceId[]=b&buildingId[$ne]=x',
  'limit=1&limit=2&limit=abc',
];

const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);

const HOSTILE_BODIES: Array<{ label: string; body: string; type?: string }> = [
  { label: 'invalid JSON', body: '{"id": "x",' },
  { label: 'JSON array', body: '[1,2,3]' },
  { label: 'JSON string', body: '"text"' },
  { label: 'JSON null', body: 'null' },
  { label: 'wrong types', body: JSON.stringify({ id: 123, kind: ['smoke'], buildingId: { $ne: null }, floor: 'ten', name: false, role: 7, scope: 'b1', note: 42, durationS: 'forever', reason: [] }) },
  { label: 'huge numbers', body: '{"floor":1e309,"durationS":123456789012345678901234567890,"until":-1e308}' },
  { label: 'deep nesting', body: `{"note":${deepArray(15_000)}}` },
  { label: 'prototype pollution', body: '{"__proto__":{"role":"admin"},"constructor":{"prototype":{"admin":true}}}' },
  { label: 'oversize body', body: JSON.stringify({ note: 'x'.repeat(200 * 1024) }) },
  { label: 'text/plain body', body: 'hello', type: 'text/plain' },
  { label: 'form body', body: 'a=1&b=2', type: 'application/x-www-form-urlencoded' },
  { label: 'invalid UTF-8 in JSON', body: '{"note":"\udcff"}' },
];

describe('hostile HTTP input against every route', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
    await h.register('http-dev-1', 'smoke');
  });
  afterAll(async () => h?.close());

  it('answers every hostile request with a 4xx in the error format (or a normal answer), never a 5xx, and stays up', async ({ task }) => {
    const routes = h.gateway.http.gridwatchRoutes.filter((r) => !r.url.startsWith('/docs') && r.method !== 'HEAD' && r.method !== 'OPTIONS');
    expect(routes.length).toBeGreaterThan(20);
    const statuses: Record<string, number> = {};
    const failures = new Set<string>();
    let tried = 0;

    const send = async (method: string, url: string, body?: { body: string; type?: string }, token: string | null = ADMIN_TOKEN) => {
      tried++;
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = body.type ?? 'application/json';
      let res: Response;
      try {
        res = await fetch(`${h.gateway.httpUrl()}${url}`, { method, headers, signal: AbortSignal.timeout(10_000), ...(body === undefined ? {} : { body: body.body }) });
      } catch (err) {
        failures.add(`${method} ${url.slice(0, 80)}: no answer (${(err as Error).message})`);
        return;
      }
      const type = res.headers.get('content-type') ?? '';
      // Streams (server-sent events) answer 200 and stay open: the answer is enough.
      const text = type.includes('text/event-stream') ? (await res.body?.cancel(), '') : await res.text();
      addTo(statuses, String(res.status));
      if (res.status >= 500) failures.add(`${method} ${url.slice(0, 80)} → ${res.status} ${text.slice(0, 160)}`);
      // 431 (headers too large) comes from Node's HTTP parser, before any route: no JSON body there.
      if (res.status >= 400 && res.status !== 431 && type.includes('application/json')) {
        const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
        if (typeof parsed.error?.code !== 'string' || typeof parsed.error.message !== 'string') failures.add(`${method} ${url.slice(0, 80)} → ${res.status} without the error format: ${text.slice(0, 160)}`);
      }
      if (res.status >= 400 && res.status !== 431 && !type.includes('application/json') && !type.includes('text/html')) {
        failures.add(`${method} ${url.slice(0, 80)} → ${res.status} answered as '${type}'`);
      }
    };

    for (const route of routes) {
      const params = route.url.match(/:[A-Za-z]+/g) ?? [];
      const urls = params.length === 0 ? [route.url] : HOSTILE_IDS.map((id) => route.url.replace(/:[A-Za-z]+/g, id));
      const bodies = route.method === 'GET' || route.method === 'DELETE' ? [undefined] : [undefined, ...HOSTILE_BODIES];
      for (const url of urls) for (const body of bodies) await send(route.method, url, body);
      const base = params.length === 0 ? route.url : route.url.replace(/:[A-Za-z]+/g, 'http-dev-1');
      for (const query of HOSTILE_QUERIES) await send(route.method, `${base}?${query}`);
      for (const body of HOSTILE_BODIES) if (route.method !== 'GET') await send(route.method, base, body);
    }
    // Garbage at the edges: unknown routes, traversal outside the API, an enormous URL, methods nobody serves.
    await send('GET', '/../../etc/passwd');
    await send('GET', '/api/v1/%2e%2e/%2e%2e/etc/passwd');
    await send('GET', '/console/..%2F..%2Fpackage.json');
    await send('GET', `/api/v1/devices?cursor=${'B'.repeat(20_000)}`);
    await send('PATCH', '/api/v1/devices');
    await send('POST', '/health', { body: '{}' });
    await send('GET', '/api/v1/devices', undefined, 'x'.repeat(10_000));

    const health = await h.api('GET', '/health');
    const crashes = health.status === 200 ? 0 : 1;
    const refused = Object.fromEntries(Object.entries(statuses).filter(([s]) => Number(s) >= 400).map(([s, n]) => [`HTTP ${s}`, n]));
    report(task, {
      scenario: `hostile HTTP input (${routes.length} routes)`,
      tried,
      refusedByApi: refused,
      crashes,
      notes: { answered2xx3xx: Object.entries(statuses).filter(([s]) => Number(s) < 400).reduce((a, [, n]) => a + n, 0), http5xx: Object.entries(statuses).filter(([s]) => Number(s) >= 500).reduce((a, [, n]) => a + n, 0) },
    });
    expect([...failures]).toEqual([]);
    expect(crashes).toBe(0);
    expect(tried).toBeGreaterThan(1000);
  });
});
