import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ackLink, signAckToken, verifyAckToken } from '../../../gateway/src/adapters/notify/index.js';

const key = randomBytes(32);
const now = Date.UTC(2024, 4, 1, 6, 0, 0);
const claims = { alertId: '0b7c2a1e-9f4e-4c7a-8d1f-3e2b5a6c7d8e', personId: 'captain-b3', expiresAt: now + 24 * 3_600_000 };

describe('acknowledge tokens', () => {
  it('round-trips the alert and the person while valid', () => {
    const token = signAckToken(claims, key);
    expect(verifyAckToken(token, key, now)).toEqual({ alertId: claims.alertId, personId: claims.personId });
    expect(verifyAckToken(token, key, claims.expiresAt - 1)).toEqual({ alertId: claims.alertId, personId: claims.personId });
  });

  it('is URL-safe and short enough for an SMS link', () => {
    const token = signAckToken(claims, key);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(token.length).toBeLessThanOrEqual(100);
    expect(ackLink('https://gw.example.org/', token)).toBe(`https://gw.example.org/ack/${token}`);
  });

  it('is expired from its expiry on', () => {
    const token = signAckToken(claims, key);
    expect(verifyAckToken(token, key, claims.expiresAt)).toEqual({ error: 'expired' });
    expect(verifyAckToken(token, key, claims.expiresAt + 60_000)).toEqual({ error: 'expired' });
  });

  it('rejects a tampered payload or MAC, and another key, as bad_signature', () => {
    const token = signAckToken(claims, key);
    const [payload = '', mac = ''] = token.split('.');
    const other = signAckToken({ ...claims, personId: 'intruder' }, key);
    const flip = (s: string, i: number): string => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    expect(verifyAckToken(`${flip(payload, 10)}.${mac}`, key, now)).toEqual({ error: 'bad_signature' });
    expect(verifyAckToken(`${payload}.${flip(mac, 3)}`, key, now)).toEqual({ error: 'bad_signature' });
    expect(verifyAckToken(`${other.split('.')[0]}.${mac}`, key, now)).toEqual({ error: 'bad_signature' });
    expect(verifyAckToken(token, randomBytes(32), now)).toEqual({ error: 'bad_signature' });
  });

  it('a later expiry cannot be forged into an expired token', () => {
    const expired = signAckToken({ ...claims, expiresAt: now - 1000 }, key);
    const [payload = '', mac = ''] = expired.split('.');
    const bytes = Buffer.from(payload, 'base64url');
    bytes.writeUInt32BE(bytes.readUInt32BE(1) + 86_400, 1);
    expect(verifyAckToken(`${bytes.toString('base64url')}.${mac}`, key, now)).toEqual({ error: 'bad_signature' });
  });

  it('calls garbage malformed', () => {
    for (const token of ['', 'abc', 'a.b.c', 'not base64!.x', `${'A'.repeat(10)}.${'B'.repeat(5)}`, 'x'.repeat(2000)]) {
      expect(verifyAckToken(token, key, now)).toEqual({ error: 'malformed' });
    }
  });

  it('refuses a short key and ids it cannot carry', () => {
    expect(() => signAckToken(claims, Buffer.alloc(8))).toThrow(/at least 16 bytes/);
    expect(() => signAckToken({ ...claims, alertId: '' }, key)).toThrow(/alertId/);
    expect(() => signAckToken({ ...claims, personId: 'x'.repeat(300) }, key)).toThrow(/personId/);
  });
});
