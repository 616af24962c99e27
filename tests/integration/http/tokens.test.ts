/**
 * API tokens: created by an admin and shown once, stored as a hash, listed without secrets,
 * revoked by id with immediate effect.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashToken } from '../../../gateway/src/adapters/secrets.js';
import { createHarness, T0, type Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

describe('tokens', () => {
  it('creates a token shown once, usable at once, stored as its SHA-256', async () => {
    const res = await h.request('POST', '/api/v1/tokens', h.tokens.admin, { name: 'Captain Li phone', role: 'captain', scope: ['b1'] });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created).toEqual({
      token: expect.stringMatching(/^gw_[A-Za-z0-9_-]{43}$/),
      id: expect.any(String),
      name: 'Captain Li phone',
      role: 'captain',
      scope: ['b1'],
      createdAt: new Date(T0).toISOString(),
      expiresAt: null,
      revoked: false,
    });
    expect(h.site.tokenByHash(hashToken(created.token))?.id).toBe(created.id);

    const devices = await h.request('GET', '/api/v1/devices', created.token);
    expect(devices.statusCode).toBe(200);
    expect(devices.json().items.map((d: { buildingId: string }) => d.buildingId)).toEqual(['b1', 'b1']);

    const list = await h.request('GET', '/api/v1/tokens', h.tokens.admin);
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(created.token);
    expect(list.body).not.toContain(hashToken(created.token));
    expect(list.body).not.toContain(hashToken(h.tokens.admin));
    const mine = list.json().items.find((t: { id: string }) => t.id === created.id);
    expect(Object.keys(mine).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'name', 'revoked', 'role', 'scope']);
  });

  it('revokes a token: the next request with it is 401', async () => {
    const created = (await h.request('POST', '/api/v1/tokens', h.tokens.admin, { name: 'ci', role: 'integrator' })).json();
    expect((await h.request('GET', '/api/v1/kinds', created.token)).statusCode).toBe(200);
    const del = await h.request('DELETE', `/api/v1/tokens/${created.id}`, h.tokens.admin);
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    expect((await h.request('GET', '/api/v1/kinds', created.token)).statusCode).toBe(401);
    const listed = (await h.request('GET', '/api/v1/tokens', h.tokens.admin)).json().items.find((t: { id: string }) => t.id === created.id);
    expect(listed.revoked).toBe(true);
    const unknown = await h.request('DELETE', '/api/v1/tokens/no-such-token', h.tokens.admin);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('GW_NOT_FOUND');
  });

  it('honours expiresAt on the injected clock', async () => {
    const expiresAt = new Date(T0 + 60_000).toISOString();
    const created = (await h.request('POST', '/api/v1/tokens', h.tokens.admin, { name: 'short', role: 'staff', scope: ['c1'], expiresAt })).json();
    expect(created.expiresAt).toBe(expiresAt);
    expect((await h.request('GET', '/api/v1/streets', created.token)).statusCode).toBe(200);
    h.clock.advance(60_000);
    expect((await h.request('GET', '/api/v1/streets', created.token)).statusCode).toBe(401);
  });

  it.each([
    ['a captain without scope', { name: 'x', role: 'captain' }, 'GW_VALIDATION'],
    ['a captain scoped to a community', { name: 'x', role: 'captain', scope: ['c1'] }, 'GW_VALIDATION'],
    ['an unknown scope id', { name: 'x', role: 'staff', scope: ['c1', 'c404'] }, 'GW_UNKNOWN_SCOPE'],
    ['an unknown role', { name: 'x', role: 'root' }, 'GW_VALIDATION'],
    ['an expiry in the past', { name: 'x', role: 'staff', expiresAt: new Date(T0 - 1).toISOString() }, 'GW_VALIDATION'],
    ['an expiry that is not a date', { name: 'x', role: 'staff', expiresAt: 'tomorrow' }, 'GW_VALIDATION'],
    ['an empty name', { name: '', role: 'staff' }, 'GW_VALIDATION'],
  ])('refuses %s with 400', async (_label, body, code) => {
    const before = h.site.tokens().length;
    const res = await h.request('POST', '/api/v1/tokens', h.tokens.admin, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe(code);
    expect(h.site.tokens()).toHaveLength(before);
  });
});
