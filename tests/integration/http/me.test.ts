/**
 * GET /api/v1/me: any valid token reads its own identity (id, name, role, scope, expiry) and the
 * person-level case roles it may act as, which are exactly the roles the transitions route
 * accepts as `asRole`. Never the token value or its hash.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MeView } from '../../../gateway/src/adapters/http/routes/me.js';
import { registerTypeboxFormats } from '../../support/typebox-formats.js';
import { createHarness, type Harness } from './harness.js';

registerTypeboxFormats();
const checkMe = TypeCompiler.Compile(MeView);

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

async function me(token: string | undefined) {
  const res = await h.request('GET', '/api/v1/me', token);
  return { status: res.statusCode, body: res.json() as Record<string, unknown>, raw: res.body };
}

describe('GET /api/v1/me', () => {
  it('answers every role with its token metadata and case roles by scope level', async () => {
    const grid = h.addToken('staff', ['g1'], { name: 'Grid 1 worker desk', expiresAt: h.clock.now() + 86_400_000 });
    const expected: Array<[string, Record<string, unknown>]> = [
      [h.tokens.admin, { role: 'admin', scope: [], caseRoles: ['admin', 'street_dispatcher', 'community_staff', 'grid_worker'] }],
      [h.tokens.staffStreet, { role: 'staff', scope: ['s1'], caseRoles: ['street_dispatcher', 'community_staff', 'grid_worker'] }],
      [h.tokens.staff, { role: 'staff', scope: ['c1'], caseRoles: ['community_staff', 'grid_worker'] }],
      [grid, { role: 'staff', scope: ['g1'], caseRoles: ['grid_worker'], name: 'Grid 1 worker desk', expiresAt: new Date(h.clock.now() + 86_400_000).toISOString() }],
      [h.tokens.captain, { role: 'captain', scope: ['b1'], caseRoles: [], expiresAt: null }],
      [h.tokens.integrator, { role: 'integrator', scope: [], caseRoles: [] }],
    ];
    for (const [token, fields] of expected) {
      const res = await me(token);
      expect(res.status, JSON.stringify(fields)).toBe(200);
      expect(checkMe.Check(res.body), [...checkMe.Errors(res.body)].map((e) => `${e.path} ${e.message}`).join('; ')).toBe(true);
      expect(res.body).toMatchObject(fields);
      expect(res.body.id).toMatch(/^t-/);
      // Neither the token itself nor anything derived from it is echoed.
      expect(res.raw).not.toContain(token);
      expect(Object.keys(res.body).sort()).toEqual(['caseRoles', 'expiresAt', 'id', 'name', 'role', 'scope']);
    }
  });

  it('the roles it lists are the ones the transitions route accepts as asRole', async () => {
    const c = h.cases.open(
      { place: { buildingId: 'b1', gridId: 'g1', communityId: 'c1', streetId: 's1' }, category: 'blocked_fire_door', urgency: 'normal', title: 'Blocked door', description: '' },
      { id: 't-admin-1', role: 'street_dispatcher' },
    );
    const { body } = await me(h.tokens.staff);
    expect(body.caseRoles).toEqual(['community_staff', 'grid_worker']);
    // verify is grid-worker work: the community desk may stand in for it, but not as a street dispatcher.
    const refused = await h.request('POST', `/api/v1/cases/${c.id}/transitions`, h.tokens.staff, { action: 'verify', asRole: 'street_dispatcher' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.details.allowedRoles).toEqual(body.caseRoles);
    const ok = await h.request('POST', `/api/v1/cases/${c.id}/transitions`, h.tokens.staff, { action: 'verify', asRole: 'grid_worker' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().state).toBe('verifying');
  });

  it('refuses a missing, unknown, revoked or expired token with 401', async () => {
    const revoked = h.addToken('staff', ['c1'], { revoked: true });
    const expired = h.addToken('staff', ['c1'], { expiresAt: h.clock.now() - 1 });
    for (const token of [undefined, 'not-a-token', revoked, expired]) {
      const res = await me(token);
      expect(res.status, String(token)).toBe(401);
      expect(res.body).toMatchObject({ error: { code: expect.stringMatching(/^GW_/) } });
    }
  });
});
