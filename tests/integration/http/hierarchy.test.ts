/**
 * Hierarchy, people and dead letters, each cut to the caller's scope.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, T0, type Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

const ids = async (url: string, token: string) => {
  const res = await h.request('GET', url, token);
  expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
  return (res.json().items as { id: string }[]).map((i) => i.id);
};

describe('streets, communities, grids, buildings', () => {
  it('an admin sees everything, with filters by parent', async () => {
    expect(await ids('/api/v1/streets', h.tokens.admin)).toEqual(['s1', 's2']);
    expect(await ids('/api/v1/communities', h.tokens.admin)).toEqual(['c1', 'c2', 'c3']);
    expect(await ids('/api/v1/communities?streetId=s2', h.tokens.admin)).toEqual(['c3']);
    expect(await ids('/api/v1/grids?communityId=c2', h.tokens.admin)).toEqual(['g2']);
    expect(await ids('/api/v1/buildings?gridId=g1', h.tokens.admin)).toEqual(['b1', 'b2']);
    const street = (await h.request('GET', '/api/v1/streets?limit=1', h.tokens.admin)).json();
    expect(street).toEqual({ items: [{ id: 's1', code: '110105001', name: 'Jianguomen Street' }], nextCursor: expect.any(String) });
  });

  it('community staff see their community, the path above it and everything below it', async () => {
    expect(await ids('/api/v1/streets', h.tokens.staff)).toEqual(['s1']);
    expect(await ids('/api/v1/communities', h.tokens.staff)).toEqual(['c1']);
    expect(await ids('/api/v1/grids', h.tokens.staff)).toEqual(['g1']);
    expect(await ids('/api/v1/buildings', h.tokens.staff)).toEqual(['b1', 'b2']);
    expect(await ids('/api/v1/communities', h.tokens.staffStreet)).toEqual(['c1', 'c2']);
    expect(await ids('/api/v1/buildings', h.tokens.staffStreet)).toEqual(['b1', 'b2', 'b3']);
  });

  it('a captain sees only their building and its path', async () => {
    expect(await ids('/api/v1/streets', h.tokens.captain)).toEqual(['s1']);
    expect(await ids('/api/v1/grids', h.tokens.captain)).toEqual(['g1']);
    expect(await ids('/api/v1/buildings', h.tokens.captain)).toEqual(['b1']);
    const other = await h.request('GET', '/api/v1/buildings/b2', h.tokens.captain);
    expect(other.statusCode).toBe(404);
    expect(other.json()).toEqual({ error: { code: 'GW_NOT_FOUND', message: "No building 'b2'" } });
  });

  it('staff scoped to an empty grid still see it and its path', async () => {
    const token = h.addToken('staff', ['g3']);
    expect(await ids('/api/v1/streets', token)).toEqual(['s2']);
    expect(await ids('/api/v1/grids', token)).toEqual(['g3']);
    expect(await ids('/api/v1/buildings', token)).toEqual([]);
  });

  it('GET /api/v1/buildings/:id gives the device count, grid, community and street', async () => {
    const res = await h.request('GET', '/api/v1/buildings/b1', h.tokens.captain);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      id: 'b1',
      gridId: 'g1',
      name: 'Building 1',
      address: '1 East Road',
      floors: 18,
      deviceCount: 2,
      grid: { id: 'g1', communityId: 'c1', code: '11010500100101', name: 'Grid 1' },
      community: { id: 'c1', streetId: 's1', code: '110105001001', name: 'East Community' },
      street: { id: 's1', code: '110105001', name: 'Jianguomen Street' },
    });
    expect((await h.request('GET', '/api/v1/buildings/b404', h.tokens.admin)).statusCode).toBe(404);
  });

  it('GET /api/v1/hierarchy returns the visible tree', async () => {
    const all = (await h.request('GET', '/api/v1/hierarchy', h.tokens.admin)).json();
    expect(all.streets.map((s: { id: string }) => s.id)).toEqual(['s1', 's2']);
    expect(all.streets[1].communities[0].grids[0]).toEqual({ id: 'g3', communityId: 'c3', code: '11010500200101', name: 'Grid 3', buildings: [] });
    const captain = (await h.request('GET', '/api/v1/hierarchy', h.tokens.captain)).json();
    expect(captain).toEqual({
      streets: [
        {
          id: 's1',
          code: '110105001',
          name: 'Jianguomen Street',
          communities: [
            {
              id: 'c1',
              streetId: 's1',
              code: '110105001001',
              name: 'East Community',
              grids: [
                {
                  id: 'g1',
                  communityId: 'c1',
                  code: '11010500100101',
                  name: 'Grid 1',
                  buildings: [{ id: 'b1', gridId: 'g1', name: 'Building 1', address: '1 East Road', floors: 18, deviceCount: 2 }],
                },
              ],
            },
          ],
        },
      ],
    });
  });
});

describe('GET /api/v1/people', () => {
  it('lists people in scope, with a role filter', async () => {
    expect(await ids('/api/v1/people', h.tokens.admin)).toEqual(['p1', 'p2', 'p3']);
    expect(await ids('/api/v1/people', h.tokens.staff)).toEqual(['p1']);
    expect(await ids('/api/v1/people', h.tokens.staffStreet)).toEqual(['p1', 'p2']);
    expect(await ids('/api/v1/people?role=grid_worker', h.tokens.admin)).toEqual(['p2']);
    const p1 = (await h.request('GET', '/api/v1/people?role=captain', h.tokens.admin)).json().items[0];
    expect(p1).toEqual({ id: 'p1', name: 'Captain Li', role: 'captain', scope: ['b1'], channels: [{ type: 'sms', target: '+8613800000001' }] });
  });
});

describe('GET /api/v1/dead-letters', () => {
  beforeEach(() => {
    const add = (deviceId: string | null, reason: 'schema_violation' | 'malformed_json' | 'unknown_device', payload: string) =>
      h.deadLetters.add({
        receivedAt: T0,
        topic: `gridwatch/v1/${deviceId ?? 'ghost'}/telemetry`,
        deviceId,
        reason,
        detail: `${reason} detail`,
        payload: new TextEncoder().encode(payload),
      });
    add('smoke-b1-01', 'schema_violation', '{"temperature":999}'); // id 1
    add('camera-b3-01', 'malformed_json', '{oops'); // id 2
    add(null, 'unknown_device', '{}'); // id 3
    add('camera-b3-01', 'schema_violation', '{"fps":-1}'); // id 4
  });

  it('lists newest first with the reason and the payload', async () => {
    const res = await h.request('GET', '/api/v1/dead-letters', h.tokens.integrator);
    expect(res.statusCode).toBe(200);
    const page = res.json();
    expect(page.items.map((d: { id: number }) => d.id)).toEqual([4, 3, 2, 1]);
    expect(page.items[3]).toEqual({
      id: 1,
      receivedAt: new Date(T0).toISOString(),
      topic: 'gridwatch/v1/smoke-b1-01/telemetry',
      deviceId: 'smoke-b1-01',
      reason: 'schema_violation',
      detail: 'schema_violation detail',
      size: 19,
      payload: '{"temperature":999}',
      encoding: 'utf8',
      truncated: false,
    });
  });

  it('filters by reason and device, and pages with cursor or before', async () => {
    const list = async (q: string) =>
      (await h.request('GET', `/api/v1/dead-letters?${q}`, h.tokens.admin)).json() as { items: { id: number }[]; nextCursor: string | null };
    expect((await list('reason=schema_violation')).items.map((d) => d.id)).toEqual([4, 1]);
    expect((await list('deviceId=camera-b3-01')).items.map((d) => d.id)).toEqual([4, 2]);
    expect((await list('before=3')).items.map((d) => d.id)).toEqual([2, 1]);
    const first = await list('limit=3');
    expect(first.items.map((d) => d.id)).toEqual([4, 3, 2]);
    const second = await list(`limit=3&cursor=${first.nextCursor}`);
    expect(second.items.map((d) => d.id)).toEqual([1]);
    expect(second.nextCursor).toBeNull();
    const bad = await h.request('GET', '/api/v1/dead-letters?reason=no_such_reason', h.tokens.admin);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('GW_VALIDATION');
  });

  it("a scoped integrator sees only its buildings' devices' dead letters", async () => {
    const token = h.addToken('integrator', ['b3']);
    const first = (await h.request('GET', '/api/v1/dead-letters?limit=1', token)).json();
    expect(first.items.map((d: { id: number }) => d.id)).toEqual([4]);
    const second = (await h.request('GET', `/api/v1/dead-letters?limit=1&cursor=${first.nextCursor}`, token)).json();
    expect(second.items.map((d: { id: number }) => d.id)).toEqual([2]);
  });
});
