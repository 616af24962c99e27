import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature } from '../../../gateway/src/adapters/notify/index.js';

const secret = 'whsec-unit';
const body = JSON.stringify({ id: 'n-1', title: '火警' });
const now = 1_714_543_380_000;

describe('webhook signatures', () => {
  it('is t=<unix>,v1=<hex HMAC-SHA256 of "t.body">', () => {
    const t = now / 1000;
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(signWebhook(body, secret, now)).toBe(`t=${t},v1=${expected}`);
  });

  it('verifies within 5 minutes and rejects older (replayed) or future requests', () => {
    const header = signWebhook(body, secret, now);
    expect(verifyWebhookSignature(header, body, secret, now + 299_000)).toEqual({ ok: true });
    expect(verifyWebhookSignature(header, body, secret, now + 301_000)).toEqual({ ok: false, error: 'stale' });
    expect(verifyWebhookSignature(header, body, secret, now - 301_000)).toEqual({ ok: false, error: 'stale' });
  });

  it('rejects a changed body, another secret, a moved timestamp and garbage', () => {
    const header = signWebhook(body, secret, now);
    expect(verifyWebhookSignature(header, body.replace('n-1', 'n-2'), secret, now)).toEqual({ ok: false, error: 'bad_signature' });
    expect(verifyWebhookSignature(header, body, 'other', now)).toEqual({ ok: false, error: 'bad_signature' });
    expect(verifyWebhookSignature(header.replace(/t=\d+/, `t=${now / 1000 + 1}`), body, secret, now)).toEqual({ ok: false, error: 'bad_signature' });
    for (const bad of [undefined, '', 't=1', 'v1=abc', 't=x,v1=00', `t=1,v1=${'z'.repeat(64)}`]) {
      expect(verifyWebhookSignature(bad, body, secret, now)).toEqual({ ok: false, error: 'malformed' });
    }
  });
});
