/**
 * Bearer tokens, the role matrix over every /api/v1 route (each role against each registered
 * route, and the routes' declared roles against the policy written here), the scope matrix
 * (scoped tokens get 404 for another building's resources), and the failed-attempt limiter on a
 * fake clock.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiRole } from '../../../gateway/src/ports.js';
import { createHarness, type Harness } from './harness.js';
import { makeAlert } from './support/alerts.js';

const ALL: ApiRole[] = ['admin', 'staff', 'captain', 'integrator'];

/** The access policy, written out by hand from the API contract (not derived from the code). */
const MATRIX: Record<string, readonly ApiRole[]> = {
  'GET /api/v1/kinds': ALL,
  'GET /api/v1/kinds/:id': ALL,
  'POST /api/v1/devices': ['admin', 'integrator'],
  'GET /api/v1/devices': ALL,
  'GET /api/v1/devices/:id': ALL,
  'GET /api/v1/devices/:id/readings': ALL,
  'GET /api/v1/devices/:id/events': ALL,
  'GET /api/v1/streets': ['admin', 'staff', 'captain'],
  'GET /api/v1/communities': ['admin', 'staff', 'captain'],
  'GET /api/v1/grids': ['admin', 'staff', 'captain'],
  'GET /api/v1/buildings': ALL,
  'GET /api/v1/buildings/:id': ALL,
  'GET /api/v1/hierarchy': ['admin', 'staff', 'captain'],
  'GET /api/v1/people': ['admin', 'staff'],
  'GET /api/v1/dead-letters': ['admin', 'integrator'],
  'POST /api/v1/tokens': ['admin'],
  'GET /api/v1/tokens': ['admin'],
  'DELETE /api/v1/tokens/:id': ['admin'],
  'GET /api/v1/alerts': ['admin', 'staff', 'captain'],
  'GET /api/v1/alerts/:id': ['admin', 'staff', 'captain'],
  'POST /api/v1/alerts/:id/ack': ['admin', 'staff', 'captain'],
  'POST /api/v1/alerts/:id/shelve': ['admin', 'staff', 'captain'],
  'POST /api/v1/alerts/:id/unshelve': ['admin', 'staff', 'captain'],
  'POST /api/v1/alerts/:id/disable': ['admin', 'staff'],
  'POST /api/v1/alerts/:id/enable': ['admin', 'staff'],
  'POST /api/v1/alerts/:id/reset': ['admin', 'staff', 'captain'],
  'GET /api/v1/devices/:id/rules': ALL,
  'PUT /api/v1/devices/:id/rules': ['admin', 'staff'],
  'GET /api/v1/buildings/:id/rules': ALL,
  'PUT /api/v1/buildings/:id/rules': ['admin', 'staff'],
  'GET /api/v1/events': ['admin', 'staff', 'captain'],
  'GET /api/v1/audit': ['admin'],
  'GET /api/v1/cases': ['admin', 'staff', 'captain'],
  'GET /api/v1/cases/:id': ['admin', 'staff', 'captain'],
  'POST /api/v1/cases': ['admin', 'staff'],
  'POST /api/v1/cases/:id/transitions': ['admin', 'staff'],
  'GET /api/v1/kpis': ['admin', 'staff'],
  'GET /api/v1/reports/:period': ['admin', 'staff'],
  'GET /api/v1/me': ALL,
};

/** The live stream never ends by itself: take the status and the error body, then let go. */
async function requestStream(url: string, token: string | undefined): Promise<{ statusCode: number; body: string; headers: Record<string, unknown> }> {
  const res = await h.app.inject({
    method: 'GET',
    url,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    payloadAsStream: true,
  });
  const stream = res.stream();
  if (res.statusCode === 200) {
    stream.destroy();
    return { statusCode: 200, body: '', headers: res.headers };
  }
  let body = '';
  for await (const chunk of stream) body += String(chunk);
  return { statusCode: res.statusCode, body, headers: res.headers };
}

/** Routes answering a never-ending stream (read with requestStream). */
const STREAMS = new Set(['GET /api/v1/events']);

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

let seq = 0;
/** A concrete request for a route that the role's scope allows (b1 is in every scoped token). */
function sample(route: string): { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; body?: unknown } {
  const [method, pattern] = route.split(' ') as ['GET' | 'POST' | 'PUT' | 'DELETE', string];
  seq++;
  let url = pattern
    .replace('/kinds/:id', '/kinds/smoke')
    .replace('/devices/:id', '/devices/smoke-b1-01')
    .replace('/buildings/:id', '/buildings/b1');
  let body: unknown;
  if (route === 'POST /api/v1/devices') body = { id: `new-${seq}`, kind: 'smoke', buildingId: 'b1' };
  if (route === 'POST /api/v1/tokens') body = { name: `token ${seq}`, role: 'integrator' };
  if (route === 'DELETE /api/v1/tokens/:id') url = url.replace(':id', 'unknown-token');
  if (pattern.startsWith('/api/v1/alerts/:id')) {
    // A fresh alert in b1, in a state the action accepts, for every attempt.
    const action = pattern.split('/')[5];
    const alert = makeAlert({
      ...(action === 'unshelve' ? { shelvedUntil: h.clock.now() + 60_000 } : {}),
      ...(action === 'enable' ? { disabled: { reason: 'maintenance', until: h.clock.now() + 60_000, by: 't-admin-1' } } : {}),
      ...(action === 'reset' ? { latched: true, clearedAt: h.clock.now() - 1000 } : {}),
    });
    h.alerts.add(alert);
    url = url.replace(':id', alert.id);
    if (action === 'shelve') body = { durationS: 600, reason: 'workers testing detectors' };
    if (action === 'disable') body = { reason: 'detector replaced', until: new Date(h.clock.now() + 3_600_000).toISOString() };
  }
  if (method === 'PUT' && pattern.endsWith('/rules')) body = { 'smoke.alarm': { enabled: true } };
  if (route === 'POST /api/v1/cases') body = { buildingId: 'b1', category: 'blocked_fire_door', title: `Blocked fire door ${seq}` };
  if (pattern.startsWith('/api/v1/cases/:id')) {
    // A fresh manual case in b1, just reported, for every attempt: verifying it is the next step.
    const opened = h.cases.open(
      { place: { buildingId: 'b1', gridId: 'g1', communityId: 'c1', streetId: 's1' }, category: 'blocked_fire_door', urgency: 'normal', title: `Case ${seq}`, description: '' },
      { id: 't-admin-1', role: 'street_dispatcher' },
    );
    url = url.replace(':id', opened.id);
    if (route === 'POST /api/v1/cases/:id/transitions') body = { action: 'verify' };
  }
  if (route === 'GET /api/v1/reports/:period') url = url.replace(':period', 'daily');
  return { method, url, body };
}

describe('role matrix', () => {
  it('covers every /api/v1 route', () => {
    const routes = h.app.gridwatchRoutes.filter((r) => r.url.startsWith('/api/v1')).map((r) => `${r.method} ${r.url}`);
    expect(routes.sort()).toEqual(Object.keys(MATRIX).sort());
  });

  it("each registered route declares exactly the roles of the policy", () => {
    const declared = Object.fromEntries(
      h.app.gridwatchRoutes.filter((r) => r.url.startsWith('/api/v1')).map((r) => [`${r.method} ${r.url}`, [...(r.roles ?? [])].sort()]),
    );
    expect(declared).toEqual(Object.fromEntries(Object.entries(MATRIX).map(([route, roles]) => [route, [...roles].sort()])));
  });

  for (const [route, allowed] of Object.entries(MATRIX)) {
    it(`${route}: allowed ${allowed.join(', ')}; others 403; no token 401`, async () => {
      for (const role of ALL) {
        const { method, url, body } = route === 'DELETE /api/v1/tokens/:id' ? revokeSample() : sample(route);
        const res = STREAMS.has(route) ? await requestStream(url, h.tokens[role]) : await h.request(method, url, h.tokens[role], body);
        if (allowed.includes(role)) {
          expect(res.statusCode, `${role} ${method} ${url}: ${res.body}`).toBeGreaterThanOrEqual(200);
          expect(res.statusCode, `${role} ${method} ${url}: ${res.body}`).toBeLessThan(300);
        } else {
          expect(res.statusCode, `${role} ${method} ${url}`).toBe(403);
          expect(JSON.parse(res.body).error.code).toBe('GW_FORBIDDEN');
        }
      }
      const { method, url, body } = sample(route);
      const anonymous = STREAMS.has(route) ? await requestStream(url, undefined) : await h.request(method, url, undefined, body);
      expect(anonymous.statusCode).toBe(401);
      expect(JSON.parse(anonymous.body).error.code).toBe('GW_UNAUTHORIZED');
      expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
    });
  }
});

/**
 * Scope: every route that names one device, building or alert answers 404 to a scoped token for
 * another building's resource, exactly as for one that does not exist. b3 lies in community c2:
 * outside the captain's b1 and the community staff's c1.
 */
describe('scope matrix', () => {
  const SCOPED_ID_ROUTES = Object.keys(MATRIX).filter((r) => /\/(devices|buildings|alerts)\/:id/.test(r));
  const SCOPED_ROLES = ['captain', 'staff'] as const;

  it('covers the routes that name a device, building or alert', () => {
    expect(SCOPED_ID_ROUTES.length).toBeGreaterThanOrEqual(14);
  });

  for (const route of SCOPED_ID_ROUTES) {
    it(`${route}: another building's resource is 404 for a scoped token`, async () => {
      for (const role of SCOPED_ROLES.filter((r) => MATRIX[route]?.includes(r))) {
        const { method, url, body } = outOfScopeSample(route);
        const res = await h.request(method, url, h.tokens[role], body);
        expect(res.statusCode, `${role} ${method} ${url}: ${res.body}`).toBe(404);
        expect(res.json().error.code).toBe('GW_NOT_FOUND');
        // The same request in the caller's own building is not refused (the 404 is the scope's).
        const own = sample(route);
        const ok = await h.request(own.method, own.url, h.tokens[role], own.body);
        expect(ok.statusCode, `${role} ${own.method} ${own.url}: ${ok.body}`).toBeLessThan(300);
      }
      // Admins see every building.
      const { method, url, body } = outOfScopeSample(route);
      expect((await h.request(method, url, h.tokens.admin, body)).statusCode).toBeLessThan(300);
    });
  }

  it('a scoped token sees only its buildings on the live stream', async () => {
    // The stream test proper is in events.test.ts; here: the route applies scope at all.
    h.events.publish({ type: 'alert', buildingId: 'b3', data: { n: 1 } });
    const lastId = h.events.publish({ type: 'alert', buildingId: 'b1', data: { n: 2 } }).id;
    const res = await h.app.inject({
      method: 'GET',
      url: '/api/v1/events',
      headers: { authorization: `Bearer ${h.tokens.captain}`, 'last-event-id': String(lastId - 2) },
      payloadAsStream: true,
    });
    const stream = res.stream();
    let text = '';
    for await (const chunk of stream) {
      text += String(chunk);
      if (text.includes(`id: ${lastId}`)) break;
    }
    stream.destroy();
    expect(text).toContain('"n":2');
    expect(text).not.toContain('"n":1');
  });
});

/** Like sample(), but the resource lies in building b3. */
function outOfScopeSample(route: string): { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; body?: unknown } {
  const { method, url, body } = sample(route);
  let outside = url.replace('/devices/smoke-b1-01', '/devices/camera-b3-01').replace('/buildings/b1', '/buildings/b3');
  if (route.includes('/alerts/:id')) {
    const alertId = url.split('/')[4] ?? '';
    const alert = h.alerts.get(alertId);
    if (alert === undefined) throw new Error(`no sample alert ${alertId}`);
    const moved = { ...alert, id: `${alert.id}-b3`, source: { deviceId: 'camera-b3-01', kind: 'camera', buildingId: 'b3', floor: null } };
    h.alerts.add(moved);
    outside = url.replace(alertId, moved.id);
  }
  const rulesBody = method === 'PUT' && route.includes('/devices/') ? { 'camera.offline': { enabled: true } } : body;
  return { method, url: outside, ...(rulesBody === undefined ? {} : { body: rulesBody }) };
}

/** DELETE needs a fresh, existing token id per attempt. */
function revokeSample(): { method: 'DELETE'; url: string; body?: unknown } {
  h.addToken('integrator');
  const newest = h.site.tokens().at(-1);
  return { method: 'DELETE', url: `/api/v1/tokens/${newest?.id ?? 'missing'}` };
}

describe('bearer tokens', () => {
  it('refuses malformed, unknown, revoked and expired tokens with 401', async () => {
    const revoked = h.addToken('admin', [], { revoked: true });
    const expired = h.addToken('admin', [], { expiresAt: h.clock.now() + 1000 });
    const ok = await h.request('GET', '/api/v1/kinds', expired);
    expect(ok.statusCode).toBe(200);
    h.clock.advance(1000);
    for (const header of [`Bearer ${revoked}`, `Bearer ${expired}`, 'Bearer gw_unknown', `Basic ${h.tokens.admin}`, 'Bearer', `Bearer ${h.tokens.admin} x`]) {
      const res = await h.app.inject({ method: 'GET', url: '/api/v1/kinds', headers: { authorization: header } });
      expect(res.statusCode, header.slice(0, 12)).toBe(401);
      expect(res.json()).toEqual({ error: { code: 'GW_UNAUTHORIZED', message: expect.any(String) } });
    }
  });

  it('authenticates before validating: an anonymous bad body gets 401, not 400', async () => {
    const res = await h.request('POST', '/api/v1/devices', undefined, { id: 'bad id!' });
    expect(res.statusCode).toBe(401);
  });
});

describe('failed-authentication rate limit', () => {
  const attempt = (token: string | undefined, remoteAddress = '203.0.113.7', extraHeaders: Record<string, string> = {}) =>
    h.app.inject({
      method: 'GET',
      url: '/api/v1/kinds',
      remoteAddress,
      headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...extraHeaders },
    });

  it('answers 429 with Retry-After after 10 failures a minute, for valid tokens too, until the window passes', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await attempt(`gw_guess_${i}`)).statusCode).toBe(401);
      h.clock.advance(1000);
    }
    const limited = await attempt(h.tokens.admin);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('GW_RATE_LIMITED');
    // The first failure was at T0, the window is 60 s and 10 s have passed.
    expect(limited.headers['retry-after']).toBe('50');
    // Another address is not affected.
    expect((await attempt(h.tokens.admin, '198.51.100.1')).statusCode).toBe(200);

    h.clock.advance(49_000);
    expect((await attempt(h.tokens.admin)).statusCode).toBe(429);
    h.clock.advance(1000);
    // The oldest failure left the window: one more try is allowed.
    expect((await attempt(h.tokens.admin)).statusCode).toBe(200);
  });

  it('does not count requests that carry no token at all', async () => {
    for (let i = 0; i < 20; i++) expect((await attempt(undefined)).statusCode).toBe(401);
    expect((await attempt(h.tokens.admin)).statusCode).toBe(200);
  });

  it('leaves routes without roles alone', async () => {
    for (let i = 0; i < 10; i++) await attempt(`gw_guess_${i}`);
    expect((await h.app.inject({ method: 'GET', url: '/health', remoteAddress: '203.0.113.7' })).statusCode).toBe(200);
  });

  it('uses X-Forwarded-For only when trustProxy is set', async () => {
    const proxied = await createHarness({ trustProxy: true });
    try {
      const viaProxy = (client: string, token: string) =>
        proxied.app.inject({
          method: 'GET',
          url: '/api/v1/kinds',
          remoteAddress: '10.0.0.1',
          headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': client },
        });
      for (let i = 0; i < 10; i++) await viaProxy('203.0.113.9', `gw_guess_${i}`);
      expect((await viaProxy('203.0.113.9', proxied.tokens.admin)).statusCode).toBe(429);
      expect((await viaProxy('203.0.113.10', proxied.tokens.admin)).statusCode).toBe(200);
    } finally {
      await proxied.close();
    }
    // Without trustProxy the header is ignored: both "clients" are the proxy's address.
    for (let i = 0; i < 10; i++) await attempt(`gw_guess_${i}`, '10.0.0.1', { 'x-forwarded-for': '203.0.113.9' });
    expect((await attempt(h.tokens.admin, '10.0.0.1', { 'x-forwarded-for': '203.0.113.10' })).statusCode).toBe(429);
  });
});
