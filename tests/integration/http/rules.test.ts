/**
 * /api/v1/devices/:id/rules and /api/v1/buildings/:id/rules: effective rules with their source,
 * replacing overrides as the calling token (audited), every problem listed at once, and scope.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

const tokenId = (role: string) => h.site.tokens().find((t) => t.role === role)?.id;

describe('GET /api/v1/devices/:id/rules', () => {
  it('answers the kind defaults with their source and empty overrides', async () => {
    const res = await h.request('GET', '/api/v1/devices/door-b1-01/rules', h.tokens.captain);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      deviceId: 'door-b1-01',
      kind: 'door',
      buildingId: 'b1',
      rules: [
        { id: 'door.held_open', title: 'Door held open', enabled: true, params: { afterS: 30, occupiedHours: ['07:00', '22:00'] }, source: 'kind' },
      ],
      overrides: { building: {}, device: {} },
    });
  });

  it('answers 404 for a device outside the caller\'s buildings, an unknown device, or a device without rules', async () => {
    for (const [url, token] of [
      ['/api/v1/devices/camera-b3-01/rules', h.tokens.captain],
      ['/api/v1/devices/ghost/rules', h.tokens.admin],
    ] as const) {
      const res = await h.request('GET', url, token);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code).toBe('GW_NOT_FOUND');
    }
    h.site.upsertDevice({ id: 'gate-b1-01', kind: 'face-gate', buildingId: 'b1', floor: 1, name: null, parentId: null }, null, h.clock.now());
    const none = await h.request('GET', '/api/v1/devices/gate-b1-01/rules', h.tokens.admin);
    expect(none.statusCode).toBe(404);
    expect(none.json().error.message).toMatch(/No rules for device/);
  });
});

describe('PUT rules', () => {
  it('layers kind → building → device, and says where each rule\'s values come from', async () => {
    const building = await h.request('PUT', '/api/v1/buildings/b1/rules', h.tokens.staff, {
      'smoke.alarm': { params: { verifyS: 60 } },
      'battery.low': { enabled: false },
    });
    expect(building.statusCode, building.body).toBe(200);
    expect(building.json()).toEqual({
      buildingId: 'b1',
      overrides: { 'smoke.alarm': { params: { verifyS: 60 } }, 'battery.low': { enabled: false } },
    });

    const device = await h.request('PUT', '/api/v1/devices/smoke-b1-01/rules', h.tokens.admin, { 'smoke.alarm': { enabled: false } });
    expect(device.statusCode, device.body).toBe(200);
    expect(device.json()).toEqual({
      deviceId: 'smoke-b1-01',
      kind: 'smoke',
      buildingId: 'b1',
      rules: [
        { id: 'smoke.alarm', title: 'Smoke alarm', enabled: false, params: { verifyS: 60 }, source: 'device' },
        { id: 'battery.low', title: 'Low battery', enabled: false, params: { belowPercent: 20 }, source: 'building' },
      ],
      overrides: {
        building: { 'smoke.alarm': { params: { verifyS: 60 } }, 'battery.low': { enabled: false } },
        device: { 'smoke.alarm': { enabled: false } },
      },
    });
    // The other smoke detector, in b2, still runs on the kind defaults.
    const other = (await h.request('GET', '/api/v1/devices/smoke-b2-01/rules', h.tokens.admin)).json();
    expect(other.rules.map((r: { source: string }) => r.source)).toEqual(['kind', 'kind']);
    expect((await h.request('GET', '/api/v1/buildings/b1/rules', h.tokens.captain)).json().overrides).toEqual(building.json().overrides);
  });

  it('replaces the whole level (what is sent is what applies) and records who and when', async () => {
    await h.request('PUT', '/api/v1/devices/smoke-b1-01/rules', h.tokens.staff, { 'battery.low': { params: { belowPercent: 15 } } });
    h.clock.advance(5000);
    const cleared = await h.request('PUT', '/api/v1/devices/smoke-b1-01/rules', h.tokens.admin, {});
    expect(cleared.statusCode).toBe(200);
    expect(cleared.json().overrides.device).toEqual({});
    expect(cleared.json().rules.every((r: { source: string }) => r.source === 'kind')).toBe(true);
    expect(h.rules.store.audit('device', 'smoke-b1-01')).toEqual({ updatedBy: tokenId('admin'), updatedAt: h.clock.now() });
  });

  it('refuses invalid overrides with GW_RULES_INVALID listing every problem, and changes nothing', async () => {
    await h.request('PUT', '/api/v1/devices/smoke-b1-01/rules', h.tokens.admin, { 'smoke.alarm': { params: { verifyS: 45 } } });
    const res = await h.request('PUT', '/api/v1/devices/smoke-b1-01/rules', h.tokens.admin, {
      'smoke.alarm': { params: { verifyS: 'soon', thresholdDbm: 0.2 } },
      'door.held_open': { enabled: false },
      'battery.low': { params: { belowPercent: -5 } },
    });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('GW_RULES_INVALID');
    expect(error.details).toEqual([
      'smoke.alarm.params.verifyS: expected number',
      'smoke.alarm.params.thresholdDbm: unknown parameter',
      "door.held_open: no such rule for device 'smoke-b1-01'",
      'battery.low.params.belowPercent: must not be negative',
    ]);
    expect(h.rules.store.get('device', 'smoke-b1-01')).toEqual({ 'smoke.alarm': { params: { verifyS: 45 } } });
  });

  it('refuses null parameter values itself, naming each one', async () => {
    const res = await h.request('PUT', '/api/v1/buildings/b1/rules', h.tokens.admin, {
      'smoke.alarm': { params: { verifyS: null } },
      'door.held_open': { params: { occupiedHours: ['07:00', null] } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      code: 'GW_RULES_INVALID',
      details: ['smoke.alarm.params.verifyS: null is not a parameter value', 'door.held_open.params.occupiedHours[1]: null is not a parameter value'],
    });
    expect(h.rules.store.get('building', 'b1')).toEqual({});
  });

  it('refuses a body of the wrong shape with GW_VALIDATION', async () => {
    for (const body of [
      { 'Smoke Alarm!': { enabled: false } },
      { 'smoke.alarm': { enabled: 'no' } },
      { 'smoke.alarm': { enabled: false, threshold: 3 } },
      { 'smoke.alarm': 'off' },
      ['smoke.alarm'],
    ]) {
      const res = await h.request('PUT', '/api/v1/devices/smoke-b1-01/rules', h.tokens.admin, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe('GW_VALIDATION');
    }
  });

  it('keeps scoped staff to their buildings and devices (404 outside), and captains and integrators out (403)', async () => {
    const body = { 'camera.offline': { params: { afterS: 120 } } };
    for (const url of ['/api/v1/buildings/b3/rules', '/api/v1/devices/camera-b3-01/rules', '/api/v1/buildings/nowhere/rules']) {
      const res = await h.request('PUT', url, h.tokens.staff, body);
      expect(res.statusCode, url).toBe(404);
    }
    expect((await h.request('GET', '/api/v1/buildings/b3/rules', h.tokens.captain)).statusCode).toBe(404);
    expect((await h.request('PUT', '/api/v1/buildings/b3/rules', h.tokens.staffStreet, body)).statusCode).toBe(200);
    for (const token of [h.tokens.captain, h.tokens.integrator]) {
      const res = await h.request('PUT', '/api/v1/devices/smoke-b1-01/rules', token, {});
      expect(res.statusCode).toBe(403);
    }
    expect(h.rules.store.all().map((r) => `${r.level}:${r.id}`)).toEqual(['building:b3']);
  });
});
