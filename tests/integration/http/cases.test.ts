/**
 * Grid cases over HTTP: every lifecycle path walked through the API with the role and scope
 * checks, lists with filters and pagination, a case linked to its alert, KPIs and reports.
 * The real Cases service runs over the real SQLite stores; time is the harness's fake clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './harness.js';
import { makeAlert } from './support/alerts.js';

let h: Harness;
let grid1: string; // staff token scoped to grid g1: acts as the grid worker
let community2: string; // staff token scoped to community c2

beforeAll(async () => {
  h = await createHarness();
  grid1 = h.addToken('staff', ['g1']);
  community2 = h.addToken('staff', ['c2']);
});
afterAll(async () => h.close());

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, checked field by field
async function call(method: 'GET' | 'POST', url: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await h.request(method, url, token, body);
  return { status: res.statusCode, body: res.json() };
}

async function step(id: string, token: string, body: Record<string, unknown>, status = 200) {
  const res = await call('POST', `/api/v1/cases/${id}/transitions`, token, body);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res.body;
}

async function report(token: string, buildingId = 'b1', title = 'Blocked fire exit') {
  const res = await call('POST', '/api/v1/cases', token, { buildingId, category: 'fire_exit', title, description: 'bikes in the stairwell', evidence: ['https://photos.example/exit.jpg'] });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

describe('reporting a case (上报)', () => {
  it('staff report cases in their scope; captains and integrators may not, and unknown buildings are refused', async () => {
    const c = await report(grid1);
    expect(c).toMatchObject({ state: 'reported', source: 'manual', buildingId: 'b1', gridId: 'g1', communityId: 'c1', streetId: 's1', urgency: 'normal', code: 'GW-20250601-0001' });
    expect(c.history[0]).toMatchObject({ action: 'opened', role: 'grid_worker', evidence: ['https://photos.example/exit.jpg'] });
    expect(c.deadlines.dispatch).toMatchObject({ basis: 'working', metAt: null });
    expect((await call('POST', '/api/v1/cases', h.tokens.captain, { buildingId: 'b1', category: 'x', title: 't' })).body.error.code).toBe('GW_FORBIDDEN');
    expect((await call('POST', '/api/v1/cases', grid1, { buildingId: 'b3', category: 'x', title: 't' })).body.error.code).toBe('GW_UNKNOWN_BUILDING');
    expect((await call('POST', '/api/v1/cases', grid1, { buildingId: 'b1', category: 'x', title: 't', evidence: ['x'.repeat(501)] })).status).toBe(400);
    expect((await call('GET', '/api/v1/cases', h.tokens.integrator)).body.error.code).toBe('GW_FORBIDDEN');
  });
});

describe('the lifecycle through the API', () => {
  it('walks every step with return, extension, parking, rework and evaluation, as the roles allowed', async () => {
    const c = await report(grid1);
    await step(c.id, grid1, { action: 'verify', note: 'seen on site' });
    // A grid worker may not register, nor pretend to be a dispatcher.
    expect((await step(c.id, grid1, { action: 'register' }, 403)).error.code).toBe('GW_CASE_ROLE');
    expect((await step(c.id, grid1, { action: 'register', asRole: 'street_dispatcher' }, 403)).error.code).toBe('GW_CASE_ROLE');
    expect((await step(c.id, h.tokens.captain, { action: 'register' }, 403)).error.code).toBe('GW_FORBIDDEN');
    const registered = await step(c.id, h.tokens.staff, { action: 'register' });
    expect(registered.history.at(-1)).toMatchObject({ action: 'register', role: 'community_staff', from: 'verifying', to: 'registered' });
    expect((await step(c.id, grid1, { action: 'accept' }, 409)).error.code).toBe('GW_CASE_TRANSITION');
    await step(c.id, h.tokens.staff, { action: 'dispatch', assignee: 'w-1' });
    const returned = await step(c.id, grid1, { action: 'return', note: 'belongs to property management' });
    expect(returned).toMatchObject({ state: 'returned', assignee: null, counters: expect.objectContaining({ returnCount: 1 }) });
    await step(c.id, h.tokens.staffStreet, { action: 'dispatch', assignee: 'w-1' });
    // Community staff may stand in for their grid worker.
    const accepted = await step(c.id, h.tokens.staff, { action: 'accept', asRole: 'grid_worker' });
    expect(accepted.history.at(-1)).toMatchObject({ role: 'grid_worker', actor: expect.stringMatching(/^t-staff-/) });
    await step(c.id, grid1, { action: 'start' });
    const until = new Date(h.clock.now() + 5 * 86_400_000).toISOString();
    const requested = await step(c.id, grid1, { action: 'request_extension', note: 'waiting for the owners', extendUntil: until });
    expect(requested.extension).toMatchObject({ approved: null, until });
    expect((await step(c.id, grid1, { action: 'approve_extension' }, 403)).error.code).toBe('GW_CASE_ROLE');
    const approved = await step(c.id, h.tokens.staffStreet, { action: 'approve_extension' });
    expect(approved.deadlines.handle.dueAt).toBe(until);
    expect(approved.counters.extensionCount).toBe(1);
    const parked = await step(c.id, h.tokens.staff, { action: 'park', note: 'owners association vote next week' });
    expect(parked.parked).toMatchObject({ reason: 'owners association vote next week' });
    expect((await step(c.id, grid1, { action: 'feedback' }, 409)).error.code).toBe('GW_CASE_TRANSITION');
    h.clock.advance(3_600_000);
    await step(c.id, h.tokens.staff, { action: 'resume' });
    await step(c.id, grid1, { action: 'feedback', evidence: ['sha256:9f86d081884c7d65'] });
    await step(c.id, h.tokens.staff, { action: 'check' });
    const rework = await step(c.id, h.tokens.staff, { action: 'rework', note: 'one bike left' });
    expect(rework).toMatchObject({ state: 'rework', counters: expect.objectContaining({ reworkCount: 1 }) });
    await step(c.id, grid1, { action: 'start' });
    await step(c.id, grid1, { action: 'feedback' });
    await step(c.id, h.tokens.staff, { action: 'check' });
    await step(c.id, h.tokens.staff, { action: 'close' });
    const evaluated = await step(c.id, h.tokens.admin, { action: 'evaluate', note: 'residents satisfied' });
    expect(evaluated.state).toBe('evaluated');
    expect(evaluated.history.map((e: { action: string }) => e.action)).toEqual([
      'opened', 'verify', 'register', 'dispatch', 'return', 'dispatch', 'accept', 'start', 'request_extension', 'approve_extension',
      'park', 'resume', 'feedback', 'check', 'rework', 'start', 'feedback', 'check', 'close', 'evaluate',
    ]);
    expect((await step(c.id, h.tokens.admin, { action: 'verify' }, 409)).error.code).toBe('GW_CASE_TRANSITION');
  });

  it('a rejected extension keeps the deadline; cancel needs a note; out-of-scope cases are 404', async () => {
    const c = await report(grid1, 'b2', 'Broken lock');
    expect((await step(c.id, h.tokens.staff, { action: 'cancel' }, 400)).error.code).toBe('GW_VALIDATION');
    expect((await step(c.id, community2, { action: 'cancel', note: 'x' }, 404)).error.code).toBe('GW_NOT_FOUND');
    const cancelled = await step(c.id, h.tokens.staff, { action: 'cancel', note: 'duplicate of an open case' });
    expect(cancelled.state).toBe('cancelled');

    const d = await report(grid1, 'b2', 'Dark stairwell');
    for (const [token, action] of [[grid1, 'verify'], [h.tokens.staff, 'register'], [h.tokens.staff, 'dispatch'], [grid1, 'accept']] as const) await step(d.id, token, { action });
    const before = (await call('GET', `/api/v1/cases/${d.id}`, grid1)).body.deadlines.handle.dueAt;
    await step(d.id, grid1, { action: 'request_extension', note: 'bulbs on order', extendUntil: String(h.clock.now() + 9 * 86_400_000) });
    const rejected = await step(d.id, h.tokens.staff, { action: 'reject_extension', note: 'use the spare stock' });
    expect(rejected.extension.approved).toBe(false);
    expect(rejected.deadlines.handle.dueAt).toBe(before);
    expect((await step(d.id, grid1, { action: 'nonsense' }, 400)).error.code).toBe('GW_VALIDATION');
  });
});

describe('reading cases', () => {
  it('a sensor case shows its linked alert; lists filter, paginate and respect scope', async () => {
    const [alert] = h.alerts.add(makeAlert({ raisedAt: h.clock.now(), source: { deviceId: 'smoke-b1-01', kind: 'smoke', buildingId: 'b1', floor: 3 } }));
    h.cases.onAlertChange({ alert: alert!, event: 'raised', notify: [] });
    const urgent = await call('GET', '/api/v1/cases?urgency=urgent', h.tokens.admin);
    expect(urgent.body.items).toHaveLength(1);
    const c = urgent.body.items[0];
    expect(c).toMatchObject({ state: 'dispatched', category: 'fire', source: 'sensor', alertIds: [alert!.id] });
    const detail = await call('GET', `/api/v1/cases/${c.id}`, h.tokens.captain);
    expect(detail.status).toBe(200);
    expect(detail.body.alerts.map((a: { id: string }) => a.id)).toEqual([alert!.id]);
    expect(detail.body.history.map((e: { action: string }) => e.action)).toEqual(['opened', 'verify', 'register', 'dispatch']);

    // Scope: community c2 sees none of c1's cases; a captain sees b1 only.
    expect((await call('GET', '/api/v1/cases', community2)).body.items).toEqual([]);
    expect((await call('GET', `/api/v1/cases/${c.id}`, community2)).status).toBe(404);
    const captain = await call('GET', '/api/v1/cases', h.tokens.captain);
    expect(captain.body.items.every((x: { buildingId: string }) => x.buildingId === 'b1')).toBe(true);

    const all = (await call('GET', '/api/v1/cases?limit=1000', h.tokens.admin)).body.items;
    const page1 = await call('GET', '/api/v1/cases?limit=2', h.tokens.admin);
    const page2 = await call('GET', `/api/v1/cases?limit=2&cursor=${page1.body.nextCursor}`, h.tokens.admin);
    expect([...page1.body.items, ...page2.body.items].map((x: { id: string }) => x.id)).toEqual(all.slice(0, 4).map((x: { id: string }) => x.id));
    expect((await call('GET', '/api/v1/cases?state=cancelled', h.tokens.admin)).body.items).toHaveLength(1);
    expect((await call('GET', '/api/v1/cases?buildingId=b2&state=open', h.tokens.admin)).body.items.map((x: { title: string }) => x.title)).toEqual(['Dark stairwell']);
    expect((await call('GET', '/api/v1/cases?cursor=@@', h.tokens.admin)).status).toBe(400);

    // Overdue: two hours on, the fire case's accept step (60 min, wall clock) has passed.
    expect((await call('GET', '/api/v1/cases?overdue=true', h.tokens.admin)).body.items).toEqual([]);
    h.clock.advance(2 * 3_600_000);
    const overdue = (await call('GET', '/api/v1/cases?overdue=true', h.tokens.admin)).body.items;
    expect(overdue.map((x: { id: string }) => x.id)).toContain(c.id);
    expect(overdue.find((x: { id: string }) => x.id === c.id).overdue).toBe(true);
  });

  it('KPIs per grid for staff, not captains; reports as JSON and Markdown', async () => {
    const from = new Date(h.clock.now() - 86_400_000).toISOString();
    const to = new Date(h.clock.now() + 60_000).toISOString();
    const kpis = await call('GET', `/api/v1/kpis?level=grid&from=${from}&to=${to}`, h.tokens.staff);
    expect(kpis.status).toBe(200);
    expect(kpis.body.groups.map((g: { id: string }) => g.id)).toEqual(['g1']);
    expect(kpis.body.total).toMatchObject({ opened: 5, registered: 3, dispatches: 4, returns: 1, closed: 1, reworked: 1, extended: 1 });
    expect(kpis.body.total.registrationRate).toBeCloseTo(3 / 5, 10);
    expect(kpis.body.total.dispatchAccuracy).toBeCloseTo(1 - 1 / 4, 10);
    expect((await call('GET', '/api/v1/kpis?level=grid&id=g2', h.tokens.staff)).status).toBe(404);
    expect((await call('GET', '/api/v1/kpis', h.tokens.captain)).status).toBe(403);
    expect((await call('GET', `/api/v1/kpis?from=${to}&to=${from}`, h.tokens.staff)).status).toBe(400);

    const at = new Date(h.clock.now() + 86_400_000).toISOString();
    const json = await call('GET', `/api/v1/reports/daily?at=${at}`, h.tokens.staffStreet);
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({ period: 'daily', titleZh: '日调度' });
    const md = await h.app.inject({ method: 'GET', url: `/api/v1/reports/weekly?at=${at}`, headers: { authorization: `Bearer ${h.tokens.admin}`, accept: 'text/markdown' } });
    expect(md.statusCode).toBe(200);
    expect(md.headers['content-type']).toMatch(/^text\/markdown/);
    expect(md.body).toMatch(/^# 周会商 Weekly review: /);
    expect((await call('GET', '/api/v1/reports/yearly', h.tokens.admin)).status).toBe(400);
  });
});
