/**
 * Devices: registration with a one-time secret, listing with live state and filters, scope
 * (captains see their buildings only), readings and events with time windows and pagination.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifySecret } from '../../../gateway/src/adapters/secrets.js';
import type { Reading } from '../../../gateway/src/domain/message.js';
import { createHarness, T0, type Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

const HOUR = 3_600_000;

describe('POST /api/v1/devices', () => {
  const body = { id: 'smoke-b1-07', kind: 'smoke', buildingId: 'b1', floor: 7, name: '7F corridor', parentId: 'door-b1-01' };

  it('registers a device and returns its MQTT secret and connection details once', async () => {
    const res = await h.request('POST', '/api/v1/devices', h.tokens.integrator, body);
    expect(res.statusCode).toBe(201);
    const answer = res.json();
    expect(answer.device).toMatchObject({
      id: 'smoke-b1-07',
      kind: 'smoke',
      buildingId: 'b1',
      building: { id: 'b1', name: 'Building 1' },
      floor: 7,
      name: '7F corridor',
      parentId: 'door-b1-01',
      status: 'never_seen',
      lastSeen: null,
      createdAt: new Date(T0).toISOString(),
    });
    expect(answer.secret).toBe(h.issuedSecrets[0]);
    expect(answer.mqtt).toEqual({
      username: 'smoke-b1-07',
      clientId: 'smoke-b1-07',
      topics: {
        telemetry: 'gridwatch/v1/smoke-b1-07/telemetry',
        event: 'gridwatch/v1/smoke-b1-07/event',
        status: 'gridwatch/v1/smoke-b1-07/status',
      },
      tcpUrl: 'mqtt://127.0.0.1:1883',
      webSocketPath: '/mqtt',
    });
    // Stored hashed, and the hash matches the secret handed out.
    const hash = h.site.deviceSecretHash('smoke-b1-07');
    expect(hash).not.toContain(answer.secret);
    expect(await verifySecret(answer.secret, hash ?? '')).toBe(true);

    // Never shown again.
    const again = await h.request('GET', '/api/v1/devices/smoke-b1-07', h.tokens.admin);
    expect(again.statusCode).toBe(200);
    expect(again.body).not.toContain(answer.secret);
    expect(again.json()).not.toHaveProperty('secret');
    const list = await h.request('GET', '/api/v1/devices', h.tokens.admin);
    expect(list.body).not.toContain(answer.secret);
  });

  it('answers 409 GW_CONFLICT when the id exists, and keeps the first secret', async () => {
    expect((await h.request('POST', '/api/v1/devices', h.tokens.admin, body)).statusCode).toBe(201);
    const firstHash = h.site.deviceSecretHash(body.id);
    const repeat = await h.request('POST', '/api/v1/devices', h.tokens.admin, body);
    expect(repeat.statusCode).toBe(409);
    expect(repeat.json()).toEqual({ error: { code: 'GW_CONFLICT', message: "Device 'smoke-b1-07' already exists" } });
    expect(h.site.deviceSecretHash(body.id)).toBe(firstHash);
  });

  it.each([
    ['unknown kind', { ...body, kind: 'toaster' }, 'GW_UNKNOWN_KIND'],
    ['bad id', { ...body, id: 'smoke/b1#' }, 'GW_VALIDATION'],
    ['id with a space', { ...body, id: 'smoke b1' }, 'GW_VALIDATION'],
    ['missing building', { ...body, buildingId: 'b99' }, 'GW_UNKNOWN_BUILDING'],
    ['unknown parent', { ...body, parentId: 'nvr-404' }, 'GW_UNKNOWN_PARENT'],
    ['no buildingId', { id: 'x1', kind: 'smoke' }, 'GW_VALIDATION'],
    ['an unknown field', { ...body, secret: 'chosen-by-me' }, 'GW_VALIDATION'],
    ['floor as text', { ...body, floor: 'three' }, 'GW_VALIDATION'],
  ])('answers 400 for %s', async (_label, payload, code) => {
    const res = await h.request('POST', '/api/v1/devices', h.tokens.admin, payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe(code);
    expect(h.issuedSecrets).toEqual([]);
  });

  it('a scoped integrator cannot register into a building outside its scope', async () => {
    const integrator = h.addToken('integrator', ['b3']);
    const res = await h.request('POST', '/api/v1/devices', integrator, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('GW_UNKNOWN_BUILDING');
    const inScope = await h.request('POST', '/api/v1/devices', integrator, { id: 'cam-b3-02', kind: 'camera', buildingId: 'b3' });
    expect(inScope.statusCode).toBe(201);
  });
});

describe('GET /api/v1/devices', () => {
  it('lists devices with kind, building, floor and live state', async () => {
    h.states.set('smoke-b1-01', {
      deviceId: 'smoke-b1-01',
      lastSeen: T0 - 5000,
      status: 'online',
      statusChangedAt: T0 - HOUR,
      latest: { temperature: { value: 21.5, ts: T0 - 5000 }, battery: { value: 87, ts: T0 - 5000 } },
    });
    h.states.set('smoke-b2-01', { deviceId: 'smoke-b2-01', lastSeen: T0 - 10 * HOUR, status: 'offline', statusChangedAt: T0 - 7 * HOUR, latest: {} });
    const res = await h.request('GET', '/api/v1/devices', h.tokens.admin);
    expect(res.statusCode).toBe(200);
    const page = res.json();
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((d: { id: string }) => d.id)).toEqual(['camera-b3-01', 'door-b1-01', 'smoke-b1-01', 'smoke-b2-01']);
    expect(page.items[2]).toEqual({
      id: 'smoke-b1-01',
      kind: 'smoke',
      name: 'Stairwell 3F',
      buildingId: 'b1',
      building: { id: 'b1', name: 'Building 1' },
      floor: 3,
      parentId: null,
      disabled: false,
      createdAt: new Date(T0 - 24 * HOUR).toISOString(),
      status: 'online',
      lastSeen: new Date(T0 - 5000).toISOString(),
      statusChangedAt: new Date(T0 - HOUR).toISOString(),
      latest: {
        temperature: { value: 21.5, ts: new Date(T0 - 5000).toISOString() },
        battery: { value: 87, ts: new Date(T0 - 5000).toISOString() },
      },
    });

    const ids = async (query: string) =>
      (await h.request('GET', `/api/v1/devices?${query}`, h.tokens.admin)).json().items.map((d: { id: string }) => d.id);
    expect(await ids('buildingId=b1')).toEqual(['door-b1-01', 'smoke-b1-01']);
    expect(await ids('kind=smoke')).toEqual(['smoke-b1-01', 'smoke-b2-01']);
    expect(await ids('status=offline')).toEqual(['smoke-b2-01']);
    expect(await ids('status=never_seen')).toEqual(['camera-b3-01', 'door-b1-01']);
    expect(await ids('kind=smoke&status=online')).toEqual(['smoke-b1-01']);
  });

  it('pages with ?limit=&cursor= and rejects a forged cursor', async () => {
    const first = (await h.request('GET', '/api/v1/devices?limit=3', h.tokens.admin)).json();
    expect(first.items).toHaveLength(3);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await h.request('GET', `/api/v1/devices?limit=3&cursor=${first.nextCursor}`, h.tokens.admin)).json();
    expect(second.items.map((d: { id: string }) => d.id)).toEqual(['smoke-b2-01']);
    expect(second.nextCursor).toBeNull();

    const bad = await h.request('GET', '/api/v1/devices?cursor=%%%', h.tokens.admin);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('GW_VALIDATION');
    expect((await h.request('GET', '/api/v1/devices?limit=0', h.tokens.admin)).statusCode).toBe(400);
    expect((await h.request('GET', '/api/v1/devices?limit=1001', h.tokens.admin)).statusCode).toBe(400);
    expect((await h.request('GET', '/api/v1/devices?status=lost', h.tokens.admin)).statusCode).toBe(400);
  });

  it('GET /api/v1/devices/:id answers 404 for an unknown device', async () => {
    const res = await h.request('GET', '/api/v1/devices/nope', h.tokens.admin);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'GW_NOT_FOUND', message: "No device 'nope'" } });
  });
});

describe('scope', () => {
  it("a captain sees only their buildings' devices; others are 404 as if absent", async () => {
    const list = (await h.request('GET', '/api/v1/devices', h.tokens.captain)).json();
    expect(list.items.map((d: { id: string }) => d.id)).toEqual(['door-b1-01', 'smoke-b1-01']);
    const filtered = (await h.request('GET', '/api/v1/devices?buildingId=b3', h.tokens.captain)).json();
    expect(filtered.items).toEqual([]);
    for (const url of ['/api/v1/devices/smoke-b2-01', '/api/v1/devices/camera-b3-01/readings', '/api/v1/devices/camera-b3-01/events']) {
      const res = await h.request('GET', url, h.tokens.captain);
      expect(res.statusCode, url).toBe(404);
      const absent = await h.request('GET', url.replace(/devices\/[^/]+/, 'devices/no-such-device'), h.tokens.captain);
      // Same answer shape as a device that does not exist: existence is not revealed.
      expect(res.json().error.code).toBe(absent.json().error.code);
    }
    expect((await h.request('GET', '/api/v1/devices/smoke-b1-01', h.tokens.captain)).statusCode).toBe(200);
  });

  it('staff scoped to a community see its buildings; staff scoped to a street see all of its communities', async () => {
    const ids = async (token: string) =>
      (await h.request('GET', '/api/v1/devices', token)).json().items.map((d: { id: string }) => d.id);
    expect(await ids(h.tokens.staff)).toEqual(['door-b1-01', 'smoke-b1-01', 'smoke-b2-01']);
    expect(await ids(h.tokens.staffStreet)).toEqual(['camera-b3-01', 'door-b1-01', 'smoke-b1-01', 'smoke-b2-01']);
    expect(await ids(h.addToken('staff', ['g2']))).toEqual(['camera-b3-01']);
  });

  it('a captain token with no scope sees nothing (fail closed)', async () => {
    const unscoped = h.addToken('captain', []);
    expect((await h.request('GET', '/api/v1/devices', unscoped)).json().items).toEqual([]);
  });
});

function reading(ts: number, values: Record<string, number>, seq: number | null = null): Reading {
  return { deviceId: 'smoke-b1-01', kind: 'smoke', buildingId: 'b1', floor: 3, ts, receivedAt: ts, seq, values };
}

describe('readings and events', () => {
  beforeEach(async () => {
    h.series.writeReadings([
      reading(T0 - 30 * HOUR, { temperature: 19 }),
      reading(T0 - 3 * HOUR, { temperature: 20, battery: 90, obscuration: 0.01 }, 1),
      reading(T0 - 2 * HOUR, { temperature: 21, battery: 90, obscuration: 0.02 }, 2),
      reading(T0 - 1 * HOUR, { temperature: 22, battery: 89, obscuration: 0.02 }, 3),
    ]);
    h.series.writeEvents([
      { deviceId: 'smoke-b1-01', kind: 'smoke', buildingId: 'b1', floor: 3, ts: T0 - 26 * HOUR, receivedAt: T0, seq: null, type: 'heartbeat', signalClass: 'info', attrs: {} },
      { deviceId: 'smoke-b1-01', kind: 'smoke', buildingId: 'b1', floor: 3, ts: T0 - 2 * HOUR, receivedAt: T0, seq: 5, type: 'smoke.alarm', signalClass: 'alarm', attrs: { zone: 'A' } },
    ]);
    await h.series.flush();
  });

  it('defaults to the last 24 h, newest first', async () => {
    const res = await h.request('GET', '/api/v1/devices/smoke-b1-01/readings', h.tokens.captain);
    expect(res.statusCode).toBe(200);
    const page = res.json();
    expect(page.deviceId).toBe('smoke-b1-01');
    expect(page.from).toBe(new Date(T0 - 24 * HOUR).toISOString());
    expect(page.to).toBe(new Date(T0).toISOString());
    expect(page.items).toHaveLength(9);
    expect(page.items[0]).toEqual({ ts: new Date(T0 - 1 * HOUR).toISOString(), measurement: 'battery', value: 89, seq: 3 });
    expect(page.items.map((r: { ts: string }) => r.ts)).toEqual([...page.items.map((r: { ts: string }) => r.ts)].sort().reverse());
    expect(page.nextCursor).toBeNull();
  });

  it('takes from/to as ISO 8601 or epoch ms, and a measurement filter', async () => {
    const from = new Date(T0 - 31 * HOUR).toISOString();
    const res = await h.request('GET', `/api/v1/devices/smoke-b1-01/readings?from=${from}&to=${T0 - 2 * HOUR}&measurement=temperature`, h.tokens.admin);
    expect(res.statusCode).toBe(200);
    expect(res.json().items.map((r: { value: number }) => r.value)).toEqual([21, 20, 19]);
  });

  it('pages through rows that share a timestamp without losing or repeating one', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor === null ? '' : `&cursor=${cursor}`;
      const res = await h.request('GET', `/api/v1/devices/smoke-b1-01/readings?limit=2${q}`, h.tokens.admin);
      expect(res.statusCode).toBe(200);
      const page = res.json();
      for (const r of page.items as { ts: string; measurement: string }[]) seen.push(`${r.ts} ${r.measurement}`);
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 20);
    expect(pages).toBe(5);
    expect(seen).toHaveLength(9);
    expect(new Set(seen).size).toBe(9);
  });

  it('rejects bad time bounds and limits with 400', async () => {
    for (const q of ['from=yesterday', 'to=2025-13-45T00:00:00Z', `from=${T0}&to=${T0 - 1}`, 'limit=10001', 'limit=0']) {
      const res = await h.request('GET', `/api/v1/devices/smoke-b1-01/readings?${q}`, h.tokens.admin);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().error.code).toBe('GW_VALIDATION');
    }
  });

  it("lists a device's events in the window", async () => {
    const res = await h.request('GET', '/api/v1/devices/smoke-b1-01/events', h.tokens.integrator);
    expect(res.statusCode).toBe(200);
    expect(res.json().items).toEqual([
      { ts: new Date(T0 - 2 * HOUR).toISOString(), type: 'smoke.alarm', signalClass: 'alarm', seq: 5, attrs: { zone: 'A' } },
    ]);
    const all = await h.request('GET', `/api/v1/devices/smoke-b1-01/events?from=${T0 - 48 * HOUR}&limit=1`, h.tokens.integrator);
    expect(all.json().items.map((e: { type: string }) => e.type)).toEqual(['smoke.alarm']);
    const next = await h.request('GET', `/api/v1/devices/smoke-b1-01/events?from=${T0 - 48 * HOUR}&limit=1&cursor=${all.json().nextCursor}`, h.tokens.integrator);
    expect(next.json().items.map((e: { type: string }) => e.type)).toEqual(['heartbeat']);
    expect(next.json().nextCursor).toBeNull();
  });
});
