/**
 * The audit log: what the onResponse hook records (mutating requests, refused authentication),
 * what it never records (GETs that succeeded, secrets, bodies, query strings), and GET
 * /api/v1/audit with its filters and pagination.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteAuditStore } from '../../../gateway/src/adapters/sqlite/audit-store.js';
import { openDatabase } from '../../../gateway/src/adapters/sqlite/database.js';
import { makeAlert } from './support/alerts.js';
import { T0, createHarness, type Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

const rows = () => h.audit.list({ limit: 1000 });
const tokenId = (role: string) => h.site.tokens().find((t) => t.id.startsWith(`t-${role}-`))?.id;

describe('the audit hook', () => {
  it('records a mutating request with who, role, action pattern, target, ip, status and outcome', async () => {
    const alert = h.alerts.add(makeAlert())[0];
    const res = await h.app.inject({
      method: 'POST',
      url: `/api/v1/alerts/${alert?.id}/ack`,
      headers: { authorization: `Bearer ${h.tokens.captain}` },
      remoteAddress: '198.51.100.4',
    });
    expect(res.statusCode).toBe(200);
    expect(rows()).toEqual([
      {
        id: expect.any(Number),
        at: T0,
        actor: tokenId('captain'),
        role: 'captain',
        action: 'POST /api/v1/alerts/:id/ack',
        target: alert?.id,
        ip: '198.51.100.4',
        status: 200,
        outcome: 'ok',
      },
    ]);
  });

  it('records failed mutations too (409 on a second acknowledge)', async () => {
    const alert = h.alerts.add(makeAlert())[0];
    await h.request('POST', `/api/v1/alerts/${alert?.id}/ack`, h.tokens.staff);
    await h.request('POST', `/api/v1/alerts/${alert?.id}/ack`, h.tokens.staff);
    expect(rows().map((r) => [r.status, r.outcome])).toEqual([
      [409, 'failed'],
      [200, 'ok'],
    ]);
  });

  it('records refused authentication on any route: 401 without a caller, 403 with the refused token', async () => {
    await h.request('GET', '/api/v1/alerts');
    await h.request('GET', '/api/v1/alerts', 'gw_not_a_token');
    await h.request('GET', '/api/v1/alerts', h.tokens.integrator);
    const [forbidden, badToken, anonymous] = rows();
    expect(anonymous).toMatchObject({ actor: null, role: null, action: 'GET /api/v1/alerts', status: 401, outcome: 'refused' });
    expect(badToken).toMatchObject({ actor: null, role: null, status: 401, outcome: 'refused' });
    expect(forbidden).toMatchObject({ actor: tokenId('integrator'), role: 'integrator', status: 403, outcome: 'refused' });
  });

  it('does not record successful reads, public routes or rate-limited requests', async () => {
    await h.request('GET', '/api/v1/alerts', h.tokens.admin);
    await h.request('GET', '/health');
    await h.request('GET', '/');
    expect(rows()).toEqual([]);
    for (let i = 0; i < 10; i++) await h.request('GET', '/api/v1/kinds', `gw_guess_${i}`);
    expect(rows()).toHaveLength(10);
    for (let i = 0; i < 5; i++) expect((await h.request('POST', '/api/v1/tokens', `gw_guess_${i}`, { name: 'x', role: 'admin' })).statusCode).toBe(429);
    expect(rows()).toHaveLength(10);
  });

  it('never stores secrets, bodies or query strings', async () => {
    const created = await h.request('POST', '/api/v1/tokens?note=hunter2', h.tokens.admin, { name: 'ops console', role: 'staff', scope: ['c1'] });
    expect(created.statusCode).toBe(201);
    const device = await h.request('POST', '/api/v1/devices', h.tokens.admin, { id: 'smoke-b1-09', kind: 'smoke', buildingId: 'b1' });
    expect(device.statusCode).toBe(201);
    await h.request('GET', '/api/v1/kinds', h.tokens.admin.slice(0, -2) + 'zz');
    const dump = JSON.stringify(h.db.prepare('SELECT * FROM audit_log').all());
    expect(dump).toContain('POST /api/v1/tokens');
    expect(dump).toContain('POST /api/v1/devices');
    for (const secret of [created.json().token, device.json().secret, h.tokens.admin, 'hunter2', 'ops console']) {
      expect(typeof secret).toBe('string');
      expect(dump).not.toContain(secret);
    }
  });
});

describe('GET /api/v1/audit', () => {
  it('is for admins only', async () => {
    expect((await h.request('GET', '/api/v1/audit', h.tokens.admin)).statusCode).toBe(200);
    for (const role of ['staff', 'captain', 'integrator'] as const) {
      expect((await h.request('GET', '/api/v1/audit', h.tokens[role])).statusCode).toBe(403);
    }
  });

  it('lists newest first with ISO times, filters by actor, action, target, outcome and time, and pages with a cursor', async () => {
    const alerts = h.alerts.add(makeAlert(), makeAlert(), makeAlert());
    for (const a of alerts) {
      await h.request('POST', `/api/v1/alerts/${a.id}/ack`, h.tokens.captain);
      h.clock.advance(1000);
    }
    await h.request('GET', '/api/v1/people', h.tokens.captain); // 403

    const all = (await h.request('GET', '/api/v1/audit', h.tokens.admin)).json();
    expect(all.items.map((e: { status: number }) => e.status)).toEqual([403, 200, 200, 200]);
    expect(all.items[0].at).toBe(new Date(T0 + 3000).toISOString());

    const byCaptain = await h.request('GET', `/api/v1/audit?actor=${tokenId('captain')}&outcome=ok`, h.tokens.admin);
    expect(byCaptain.json().items).toHaveLength(3);
    const byTarget = await h.request('GET', `/api/v1/audit?target=${alerts[1]?.id}`, h.tokens.admin);
    expect(byTarget.json().items.map((e: { target: string }) => e.target)).toEqual([alerts[1]?.id]);
    const byAction = await h.request('GET', `/api/v1/audit?action=${encodeURIComponent('GET /api/v1/people')}`, h.tokens.admin);
    expect(byAction.json().items).toHaveLength(1);
    const window = await h.request('GET', `/api/v1/audit?since=${T0 + 1000}&until=${new Date(T0 + 3000).toISOString()}`, h.tokens.admin);
    expect(window.json().items).toHaveLength(2);

    const page1 = (await h.request('GET', '/api/v1/audit?limit=3', h.tokens.admin)).json();
    expect(page1.items).toHaveLength(3);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = (await h.request('GET', `/api/v1/audit?limit=3&cursor=${page1.nextCursor}`, h.tokens.admin)).json();
    // The admin's own reads of the log are not recorded, so the pages add up to the four entries.
    expect(page2.items).toHaveLength(1);
    expect(page2.nextCursor).toBeNull();
    expect(page2.items[0].id).toBeLessThan(page1.items[2].id);
  });

  it('refuses a bad cursor, a bad time and an inverted window with GW_VALIDATION', async () => {
    for (const q of ['cursor=bm90LWEtbnVtYmVy', 'since=yesterday', `since=${T0}&until=${T0 - 1}`, 'outcome=maybe']) {
      const res = await h.request('GET', `/api/v1/audit?${q}`, h.tokens.admin);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().error.code, q).toBe('GW_VALIDATION');
    }
  });
});

describe('SqliteAuditStore', () => {
  it('keeps entries across reopening the file and clips over-long values', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'gridwatch-audit-'));
    try {
      const file = path.join(dir, 'gridwatch.db');
      let db = openDatabase(file);
      new SqliteAuditStore(db).record({ at: T0, actor: 't-1', role: 'admin', action: 'DELETE /api/v1/tokens/:id', target: 'x'.repeat(5000), ip: '127.0.0.1', status: 204, outcome: 'ok' });
      db.close();
      db = openDatabase(file);
      const [entry] = new SqliteAuditStore(db).list({ limit: 10 });
      expect(entry).toMatchObject({ actor: 't-1', action: 'DELETE /api/v1/tokens/:id', status: 204 });
      expect(entry?.target).toHaveLength(200);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
