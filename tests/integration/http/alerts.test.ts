/**
 * /api/v1/alerts and the acknowledge link: schemas, scope, actions as the calling token, the
 * mapping of AlertActionError onto the catalog, keyset pagination, and the ack page flow (GET
 * shows, POST acknowledges) with its failure pages and rate limit.
 */
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../../gateway/src/domain/alerts/types.js';
import { AlertActionError } from '../../../gateway/src/ports.js';
import { createHarness, type Harness } from './harness.js';
import { StoreAlertService, makeAlert } from './support/alerts.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

const MIN = 60_000;
const tokenId = (role: string) => h.site.tokens().find((t) => t.role === role)?.id;

/** Alerts raised one minute apart (the first oldest), in b1, b2 and b3. */
function seedAlerts(): Alert[] {
  const at = (i: number) => h.clock.now() - (10 - i) * MIN;
  return h.alerts.add(
    makeAlert({ raisedAt: at(0) }),
    makeAlert({ raisedAt: at(1), state: 'active_ack', acknowledgedAt: at(1) + 1000, acknowledgedBy: 't-captain-4' }),
    makeAlert({
      raisedAt: at(2),
      type: 'battery.low',
      signalClass: 'trouble',
      source: { deviceId: 'smoke-b2-01', kind: 'smoke', buildingId: 'b2', floor: 2 },
    }),
    makeAlert({
      raisedAt: at(3),
      type: 'camera.offline',
      signalClass: 'trouble',
      source: { deviceId: 'camera-b3-01', kind: 'camera', buildingId: 'b3', floor: null },
    }),
    makeAlert({ raisedAt: at(4), state: 'normal', clearedAt: at(4) + MIN, closedAt: at(4) + MIN, acknowledgedAt: at(4) + 100, acknowledgedBy: 'x' }),
    makeAlert({
      raisedAt: at(4),
      type: 'door.forced_open',
      latched: true,
      source: { deviceId: 'door-b1-01', kind: 'door', buildingId: 'b1', floor: 1 },
    }),
  );
}

const listIds = async (query: string, token = h.tokens.admin) => {
  const res = await h.request('GET', `/api/v1/alerts${query}`, token);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().items as { id: string }[]).map((a) => a.id);
};

describe('GET /api/v1/alerts', () => {
  it('lists newest first with ISO times and without history', async () => {
    const seeded = seedAlerts();
    const res = await h.request('GET', '/api/v1/alerts', h.tokens.admin);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.nextCursor).toBeNull();
    // The two alerts raised in the same minute come id-descending.
    const [a0, a1, a2, a3, a4, a5] = seeded.map((a) => a.id);
    expect(body.items.map((a: { id: string }) => a.id)).toEqual([a5, a4, a3, a2, a1, a0]);
    const first = body.items.find((a: { id: string }) => a.id === a0);
    expect(first).toEqual({
      id: a0,
      source: { deviceId: 'smoke-b1-01', kind: 'smoke', buildingId: 'b1', floor: 3 },
      type: 'smoke.alarm',
      signalClass: 'alarm',
      title: 'Smoke alarm',
      titleZh: '烟感报警',
      detail: 'Smoke 0.15 dB/m on floor 3',
      attrs: { obscuration: 0.15 },
      state: 'active_unack',
      latched: false,
      verification: null,
      raisedAt: new Date(h.clock.now() - 10 * MIN).toISOString(),
      lastSeenAt: new Date(h.clock.now() - 10 * MIN).toISOString(),
      count: 1,
      clearedAt: null,
      acknowledgedAt: null,
      acknowledgedBy: null,
      shelvedUntil: null,
      suppressedBy: null,
      disabled: null,
      escalationLevel: 0,
      nextEscalationAt: null,
      chattering: false,
      closedAt: null,
    });
  });

  it('filters by state, open, class, building, device and since (ISO or epoch ms)', async () => {
    const [a0, a1, a2, a3, , a5] = seedAlerts().map((a) => a.id);
    expect(await listIds('?state=active_ack')).toEqual([a1]);
    expect(await listIds('?state=open')).toEqual([a5, a3, a2, a1, a0]);
    expect(await listIds('?class=trouble')).toEqual([a3, a2]);
    expect(await listIds('?buildingId=b2')).toEqual([a2]);
    expect(await listIds('?deviceId=door-b1-01')).toEqual([a5]);
    const since = h.clock.now() - 7 * MIN;
    expect(await listIds(`?since=${since}&state=open`)).toEqual([a5, a3]);
    expect(await listIds(`?since=${new Date(since).toISOString()}&state=open`)).toEqual([a5, a3]);
  });

  it('refuses bad filters with GW_VALIDATION naming the field', async () => {
    for (const [query, path] of [
      ['?state=burning', '/querystring/state'],
      ['?class=panic', '/querystring/class'],
      ['?limit=0', '/querystring/limit'],
      ['?since=yesterday', '/since'],
      ['?cursor=not*base64', '/cursor'],
      [`?cursor=${Buffer.from('garbage').toString('base64url')}`, '/cursor'],
    ] as const) {
      const res = await h.request('GET', `/api/v1/alerts${query}`, h.tokens.admin);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe('GW_VALIDATION');
      expect(res.json().error.details[0].path, query).toBe(path);
    }
  });

  it('pages with a keyset cursor: every alert once, stable while new alerts are raised', async () => {
    const expected = seedAlerts()
      .sort((x, y) => y.raisedAt - x.raisedAt || (x.id < y.id ? 1 : -1))
      .map((a) => a.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await h.request('GET', `/api/v1/alerts?limit=4${cursor === null ? '' : `&cursor=${cursor}`}`, h.tokens.admin);
      expect(res.statusCode).toBe(200);
      const body = res.json() as { items: { id: string }[]; nextCursor: string | null };
      seen.push(...body.items.map((a) => a.id));
      cursor = body.nextCursor;
      // A new alert raised between pages appears on the first page, not in the middle.
      if (pages === 0) h.alerts.add(makeAlert({ raisedAt: h.clock.now() }));
      pages++;
    } while (cursor !== null && pages < 10);
    expect(seen).toEqual(expected);
    expect(pages).toBe(2);
    // Exactly one page: no cursor.
    expect((await h.request('GET', '/api/v1/alerts?limit=7', h.tokens.admin)).json().nextCursor).toBeNull();
  });

  it('shows each caller only the alerts of their buildings', async () => {
    const [a0, a1, a2, a3, , a5] = seedAlerts().map((a) => a.id);
    // captain: b1; staff: community c1 (b1, b2); staffStreet: street s1 (b1, b2, b3).
    expect(await listIds('?state=open', h.tokens.captain)).toEqual([a5, a1, a0]);
    expect(await listIds('?state=open', h.tokens.staff)).toEqual([a5, a2, a1, a0]);
    expect(await listIds('?state=open', h.tokens.staffStreet)).toEqual([a5, a3, a2, a1, a0]);
    // Asking for another building narrows, it does not widen.
    expect(await listIds('?buildingId=b3', h.tokens.captain)).toEqual([]);
    expect(await listIds('?deviceId=camera-b3-01', h.tokens.staff)).toEqual([]);
    // A captain token without buildings sees nothing.
    expect(await listIds('', h.addToken('captain', []))).toEqual([]);
    // Integrators connect sensors; they do not read alerts.
    expect((await h.request('GET', '/api/v1/alerts', h.tokens.integrator)).statusCode).toBe(403);
  });
});

describe('GET /api/v1/alerts/:id', () => {
  it('answers the alert with its history and notification receipts', async () => {
    const [a0] = seedAlerts();
    if (a0 === undefined) throw new Error('seed');
    h.alerts.setReceipts(a0.id, [
      {
        id: 'n-1',
        dedupKey: `${a0.id}:raised:p1`,
        alertId: a0.id,
        personId: 'p1',
        channel: 'sms',
        status: 'sent',
        attempts: 1,
        createdAt: a0.raisedAt + 10,
        sentAt: a0.raisedAt + 900,
        lastError: null,
      },
      {
        id: 'n-2',
        dedupKey: `${a0.id}:raised:p2`,
        alertId: a0.id,
        personId: 'p2',
        channel: null,
        status: 'failed',
        attempts: 5,
        createdAt: a0.raisedAt + 10,
        sentAt: null,
        lastError: 'no channel left',
      },
    ]);
    const res = await h.request('GET', `/api/v1/alerts/${a0.id}`, h.tokens.captain);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.history).toEqual([{ at: new Date(a0.raisedAt).toISOString(), event: 'raised', actor: 'system', note: null }]);
    expect(body.receipts).toEqual([
      {
        id: 'n-1',
        personId: 'p1',
        channel: 'sms',
        status: 'sent',
        attempts: 1,
        createdAt: new Date(a0.raisedAt + 10).toISOString(),
        sentAt: new Date(a0.raisedAt + 900).toISOString(),
        lastError: null,
      },
      {
        id: 'n-2',
        personId: 'p2',
        channel: null,
        status: 'failed',
        attempts: 5,
        createdAt: new Date(a0.raisedAt + 10).toISOString(),
        sentAt: null,
        lastError: 'no channel left',
      },
    ]);
  });

  it('answers 404 for an alert outside the caller\'s buildings, exactly as for none', async () => {
    const alerts = seedAlerts();
    const inB3 = alerts.find((a) => a.source.buildingId === 'b3');
    const outside = await h.request('GET', `/api/v1/alerts/${inB3?.id}`, h.tokens.captain);
    const missing = await h.request('GET', '/api/v1/alerts/al-ghost', h.tokens.captain);
    expect(outside.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect(outside.json().error.code).toBe('GW_NOT_FOUND');
    expect(outside.json().error.message.replace(String(inB3?.id), 'X')).toBe(missing.json().error.message.replace('al-ghost', 'X'));
  });
});

describe('alert actions', () => {
  const post = (id: string, action: string, token: string, body?: unknown) => h.request('POST', `/api/v1/alerts/${id}/${action}`, token, body);

  it('acknowledge: as the calling token, with the note in the history; a second time is 409', async () => {
    const [a] = h.alerts.add(makeAlert());
    if (a === undefined) throw new Error('seed');
    h.clock.advance(42_000);
    const res = await post(a.id, 'ack', h.tokens.captain, { note: '在路上 on my way' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.state).toBe('active_ack');
    expect(body.acknowledgedBy).toBe(tokenId('captain'));
    expect(body.acknowledgedAt).toBe(new Date(h.clock.now()).toISOString());
    expect(body.history.at(-1)).toEqual({
      at: new Date(h.clock.now()).toISOString(),
      event: 'acknowledged',
      actor: tokenId('captain'),
      note: '在路上 on my way',
    });
    expect(h.alerts.get(a.id)?.state).toBe('active_ack');

    const again = await post(a.id, 'ack', h.tokens.staff);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('GW_ALERT_TRANSITION');
  });

  it('a bare POST (no body) works for ack, unshelve, enable and reset; unknown fields are refused', async () => {
    const [a] = h.alerts.add(makeAlert());
    if (a === undefined) throw new Error('seed');
    const bare = await h.app.inject({ method: 'POST', url: `/api/v1/alerts/${a.id}/ack`, headers: { authorization: `Bearer ${h.tokens.staff}` } });
    expect(bare.statusCode, bare.body).toBe(200);
    expect(bare.json().history.at(-1).note).toBeNull();

    const [b] = h.alerts.add(makeAlert());
    const extra = await post(String(b?.id), 'ack', h.tokens.staff, { note: 'x', acknowledgedBy: 'someone else' });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().error.code).toBe('GW_VALIDATION');
    expect(h.alerts.get(String(b?.id))?.state).toBe('active_unack');
  });

  it('shelve for a while and unshelve; past the service maximum is 400; unshelving twice is 409', async () => {
    const [a] = h.alerts.add(makeAlert());
    const id = String(a?.id);
    const tooLong = await post(id, 'shelve', h.tokens.captain, { durationS: 25 * 3600, reason: 'long job' });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error).toMatchObject({ code: 'GW_VALIDATION', details: [{ path: '/body' }] });
    const noReason = await post(id, 'shelve', h.tokens.captain, { durationS: 600 });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().error.details[0].path).toBe('/body');

    const shelved = await post(id, 'shelve', h.tokens.captain, { durationS: 600, reason: 'workers testing detectors' });
    expect(shelved.statusCode).toBe(200);
    expect(shelved.json().shelvedUntil).toBe(new Date(h.clock.now() + 600_000).toISOString());
    expect(shelved.json().history.at(-1)).toMatchObject({ event: 'shelved', note: 'workers testing detectors' });

    expect((await post(id, 'unshelve', h.tokens.captain)).json().shelvedUntil).toBeNull();
    const twice = await post(id, 'unshelve', h.tokens.captain);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.code).toBe('GW_ALERT_TRANSITION');
  });

  it('disable (屏蔽) needs a reason and an ISO expiry in the future; staff only; enable returns it', async () => {
    const [a] = h.alerts.add(makeAlert());
    const id = String(a?.id);
    const until = new Date(h.clock.now() + 2 * 3_600_000).toISOString();
    const byCaptain = await post(id, 'disable', h.tokens.captain, { reason: 'detector replaced', until });
    expect(byCaptain.statusCode).toBe(403);

    for (const body of [{ reason: 'r' }, { until }, { reason: '', until }, { reason: 'r', until: 'tomorrow' }, { reason: 'r', until: String(h.clock.now() + 1000) }]) {
      const res = await post(id, 'disable', h.tokens.staff, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe('GW_VALIDATION');
    }
    const past = await post(id, 'disable', h.tokens.staff, { reason: 'r', until: new Date(h.clock.now() - 1000).toISOString() });
    expect(past.statusCode).toBe(400);
    expect(past.json().error.message).toMatch(/future/);

    const disabled = await post(id, 'disable', h.tokens.staff, { reason: 'detector replaced', until });
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json().disabled).toEqual({ reason: 'detector replaced', until, by: tokenId('staff') });
    const enabled = await post(id, 'enable', h.tokens.admin);
    expect(enabled.statusCode).toBe(200);
    expect(enabled.json().disabled).toBeNull();
    expect(enabled.json().history.map((e: { event: string }) => e.event)).toEqual(['raised', 'disabled', 'enabled']);
  });

  it('reset ends a latched alert once cleared; refused (409) while the condition is still active', async () => {
    const [active, cleared] = h.alerts.add(
      makeAlert({ latched: true, type: 'door.forced_open' }),
      makeAlert({ latched: true, type: 'door.forced_open', clearedAt: h.clock.now() - 1000 }),
    );
    const refused = await post(String(active?.id), 'reset', h.tokens.captain, { note: 'checked' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('GW_ALERT_TRANSITION');
    const done = await post(String(cleared?.id), 'reset', h.tokens.captain, { note: '门已修好 door repaired' });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({ state: 'normal', closedAt: new Date(h.clock.now()).toISOString() });
  });

  it('an action on an alert outside the caller\'s buildings is a 404 and changes nothing', async () => {
    const [inB3] = h.alerts.add(makeAlert({ source: { deviceId: 'camera-b3-01', kind: 'camera', buildingId: 'b3', floor: null } }));
    const id = String(inB3?.id);
    for (const token of [h.tokens.captain, h.tokens.staff]) {
      const res = await post(id, 'ack', token);
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('GW_NOT_FOUND');
    }
    expect(h.alerts.get(id)?.state).toBe('active_unack');
    expect((await post('al-ghost', 'ack', h.tokens.admin)).statusCode).toBe(404);
  });

  it('maps the service\'s not_found (an alert gone meanwhile) to 404 and an unexpected failure to a bare 500', async () => {
    class Racing extends StoreAlertService {
      override acknowledge(): Alert {
        throw new AlertActionError('not_found', 'alert was pruned meanwhile');
      }
      override shelve(): Alert {
        throw new Error('SQLITE_FULL: database or disk is full at /var/lib/gridwatch');
      }
    }
    await h.close();
    const { SqliteAlertStore } = await import('../../../gateway/src/adapters/sqlite/alert-store.js');
    const { openDatabase } = await import('../../../gateway/src/adapters/sqlite/database.js');
    const db = openDatabase(':memory:');
    const racing = new Racing(new SqliteAlertStore(db), { now: () => Date.UTC(2025, 5, 1, 12) });
    h = await createHarness({}, { alerts: racing });
    try {
      const [a] = racing.add(makeAlert());
      const gone = await post(String(a?.id), 'ack', h.tokens.admin);
      expect(gone.statusCode).toBe(404);
      expect(gone.json()).toEqual({ error: { code: 'GW_NOT_FOUND', message: 'alert was pruned meanwhile' } });
      const broken = await post(String(a?.id), 'shelve', h.tokens.admin, { durationS: 60, reason: 'r' });
      expect(broken.statusCode).toBe(500);
      expect(broken.json()).toEqual({ error: { code: 'GW_INTERNAL', message: 'Internal error' } });
    } finally {
      db.close();
    }
  });
});

describe('acknowledge link /ack/:token', () => {
  const browser = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
  const get = (token: string, headers: Record<string, string> = browser, remoteAddress = '198.51.100.20') =>
    h.app.inject({ method: 'GET', url: `/ack/${token}`, headers, remoteAddress });
  /** What a browser sends when the confirm button is pressed: an empty urlencoded form. */
  const confirm = (token: string, headers: Record<string, string> = browser, remoteAddress = '198.51.100.20') =>
    h.app.inject({
      method: 'POST',
      url: `/ack/${token}`,
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
      remoteAddress,
    });

  function linkFor(alert: Partial<Alert> = {}, ttlMs = 30 * MIN): { alert: Alert; token: string } {
    const [a] = h.alerts.add(makeAlert(alert));
    if (a === undefined) throw new Error('seed');
    return { alert: a, token: h.alerts.issueLink(a.id, 'p1', ttlMs) };
  }

  it('GET shows the alert (中文 + English) and a confirm button, and never acknowledges', async () => {
    const { alert, token } = linkFor({ detail: 'Smoke on floor 3 <script>alert(1)</script> & more' });
    for (let i = 0; i < 3; i++) {
      // Link-preview bots and mail scanners fetch the link, some of them several times.
      const res = await get(token);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('烟感报警');
      expect(res.body).toContain('Smoke alarm');
      expect(res.body).toContain('Building 1');
      expect(res.body).toMatch(/<form method="post">\s*<button type="submit">确认告警 · Acknowledge<\/button>/);
      expect(res.body).toContain('&#60;script&#62;alert(1)&#60;/script&#62; &#38; more');
      expect(res.body).not.toContain('<script>');
    }
    const page = await get(token);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['x-robots-tag']).toMatch(/noindex/);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'.*form-action 'self'/);
    expect(h.alerts.get(alert.id)?.state).toBe('active_unack');
    expect(h.alerts.get(alert.id)?.history.map((e) => e.event)).toEqual(['raised']);
  });

  it('GET answers JSON when JSON is asked for', async () => {
    const { alert, token } = linkFor();
    const res = await get(token, { accept: 'application/json' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      alert: {
        alertId: alert.id,
        type: 'smoke.alarm',
        signalClass: 'alarm',
        title: 'Smoke alarm',
        titleZh: '烟感报警',
        detail: 'Smoke 0.15 dB/m on floor 3',
        building: { id: 'b1', name: 'Building 1' },
        floor: 3,
        state: 'active_unack',
        raisedAt: new Date(alert.raisedAt).toISOString(),
        acknowledgedAt: null,
      },
      expiresAt: new Date(h.clock.now() + 30 * MIN).toISOString(),
    });
  });

  it('POST (the confirm button) acknowledges as the person the link was sent to; again says it is done', async () => {
    const { alert, token } = linkFor();
    h.clock.advance(MIN);
    const res = await confirm(token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('已确认，谢谢');
    expect(res.body).toContain('Acknowledged, thank you');
    const stored = h.alerts.get(alert.id);
    expect(stored).toMatchObject({ state: 'active_ack', acknowledgedBy: 'p1', acknowledgedAt: h.clock.now() });
    expect(stored?.history.at(-1)).toMatchObject({ event: 'acknowledged', actor: 'p1' });

    const again = await confirm(token);
    expect(again.statusCode).toBe(200);
    expect(again.body).toContain('此告警已有人确认');
    const json = await confirm(token, { accept: 'application/json' });
    expect(json.json()).toMatchObject({ acknowledged: true, alreadyAcknowledged: true, alert: { alertId: alert.id, state: 'active_ack' } });
    // The GET page now says so instead of offering the button.
    const page = await get(token);
    expect(page.body).toContain('Already acknowledged');
    expect(page.body).not.toContain('<form');
  });

  it('POST without a body and with JSON answers JSON', async () => {
    const { alert, token } = linkFor();
    const res = await h.app.inject({ method: 'POST', url: `/ack/${token}`, headers: { accept: 'application/json' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ acknowledged: true, alreadyAcknowledged: false, alert: { alertId: alert.id, state: 'active_ack' } });
  });

  it('needs no bearer token, and ignores one', async () => {
    const { token } = linkFor();
    const res = await get(token, { ...browser, authorization: 'Bearer gw_not_a_token' });
    expect(res.statusCode).toBe(200);
  });

  it('an alert closed without acknowledgement answers 409; one that no longer exists 404', async () => {
    const closed = linkFor({ state: 'normal', clearedAt: h.clock.now(), closedAt: h.clock.now() });
    const res = await confirm(closed.token);
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('GW_ALERT_TRANSITION');
    const json = await confirm(closed.token, { accept: 'application/json' });
    expect(json.json().error.code).toBe('GW_ALERT_TRANSITION');

    const ghost = h.alerts.issueLink('al-ghost', 'p1', MIN);
    const missing = await get(ghost, { accept: 'application/json' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('GW_NOT_FOUND');
  });

  it('an expired link answers 410 (page or JSON) and acknowledges nothing', async () => {
    const { alert, token } = linkFor({}, 5 * MIN);
    h.clock.advance(5 * MIN);
    const page = await get(token);
    expect(page.statusCode).toBe(410);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('此链接已过期');
    expect(page.body).toContain('This link has expired');
    const post = await confirm(token, { accept: 'application/json' });
    expect(post.statusCode).toBe(410);
    expect(post.json().error.code).toBe('GW_ACK_LINK_EXPIRED');
    expect(h.alerts.get(alert.id)?.state).toBe('active_unack');
  });

  it('a forged link answers 400; ten from one address a minute and that address gets 429, valid links too', async () => {
    const { token } = linkFor();
    const forged = await get('forged-token-value');
    expect(forged.statusCode).toBe(400);
    expect(forged.body).toContain('此链接无效');
    expect((await confirm('another-forgery', { accept: 'application/json' })).json().error.code).toBe('GW_ACK_LINK_INVALID');
    for (let i = 0; i < 8; i++) await get(`forged-${i}`);

    const limited = await get(token);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('60');
    expect(limited.body).toContain('GW_RATE_LIMITED');
    const limitedPost = await confirm(token, { accept: 'application/json' });
    expect(limitedPost.statusCode).toBe(429);
    expect(limitedPost.json().error.code).toBe('GW_RATE_LIMITED');

    // Another address is not affected, and neither is the bearer-token API from this one.
    expect((await get(token, browser, '198.51.100.99')).statusCode).toBe(200);
    const api = await h.app.inject({ method: 'GET', url: '/api/v1/kinds', headers: { authorization: `Bearer ${h.tokens.admin}` }, remoteAddress: '198.51.100.20' });
    expect(api.statusCode).toBe(200);

    h.clock.advance(MIN);
    expect((await confirm(token)).statusCode).toBe(200);
  });

  it('expired links are not counted as guesses', async () => {
    const { token } = linkFor({}, MIN);
    h.clock.advance(MIN);
    for (let i = 0; i < 12; i++) expect((await get(token)).statusCode).toBe(410);
  });

  it('the link never reaches the log', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    await h.close();
    h = await createHarness({ logger: { level: 'trace', stream } });
    const { token } = linkFor();
    expect((await get(token)).statusCode).toBe(200);
    expect((await confirm(token)).statusCode).toBe(200);
    await get('forged-token-in-log');
    const log = lines.join('');
    expect(log).toContain('/ack/[redacted]');
    expect(log).not.toContain(token);
    expect(log).not.toContain('forged-token-in-log');
  });

  it('is documented in OpenAPI with its HTML and JSON answers, without bearer security', async () => {
    const doc = (await h.request('GET', '/docs/json')).json() as {
      paths: Record<string, Record<string, { security?: unknown; responses: Record<string, { content?: Record<string, unknown> }> }>>;
    };
    for (const method of ['get', 'post']) {
      const op = doc.paths['/ack/{token}']?.[method];
      expect(op, method).toBeDefined();
      expect(op?.security).toBeUndefined();
      expect(Object.keys(op?.responses['200']?.content ?? {}).sort()).toEqual(['application/json', 'text/html']);
      expect(Object.keys(op?.responses ?? {})).toEqual(expect.arrayContaining(['400', '404', '409', '410', '429']));
    }
  });
});
