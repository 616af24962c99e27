/**
 * /health, /metrics, and the logger: secrets and tokens never reach the log.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('/health', () => {
  it('answers 200 when ok or degraded and 503 when down, without a token', async () => {
    h = await createHarness();
    const ok = await h.request('GET', '/health');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ status: 'ok', checks: { sink: { ok: true, detail: 'embedded store', pending: 0 } } });

    h.health.report = { status: 'degraded', checks: { influx: { ok: false, detail: 'spooling 12 lines', lagMs: 4000 } } };
    const degraded = await h.request('GET', '/health');
    expect(degraded.statusCode).toBe(200);
    expect(degraded.json().checks.influx).toEqual({ ok: false, detail: 'spooling 12 lines', lagMs: 4000 });

    h.health.report = { status: 'down', checks: { broker: { ok: false, detail: 'not listening' } } };
    const down = await h.request('GET', '/health');
    expect(down.statusCode).toBe(503);
    expect(down.json().status).toBe('down');
  });
});

describe('/metrics', () => {
  it('serves Prometheus text format 0.0.4 without a token', async () => {
    h = await createHarness();
    const res = await h.request('GET', '/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.body).toContain('# TYPE gridwatch_up gauge\ngridwatch_up 1\n');
  });
});

describe('logging', () => {
  it('never logs device secrets, bearer tokens or bodies', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    h = await createHarness({ logger: { level: 'trace', stream } });
    const registered = await h.request('POST', '/api/v1/devices', h.tokens.admin, { id: 'smoke-b1-09', kind: 'smoke', buildingId: 'b1', name: 'Body-only name' });
    expect(registered.statusCode).toBe(201);
    const created = await h.request('POST', '/api/v1/tokens', h.tokens.admin, { name: 'ops', role: 'integrator' });
    expect(created.statusCode).toBe(201);
    await h.request('GET', '/api/v1/devices', 'gw_a_wrong_guess');

    // Handlers' own log calls go through the same redaction.
    h.app.log.info({ secret: 'should-not-appear', device: { secret: 'nor-this' }, token: 'nor-that' }, 'redaction probe');

    const log = lines.join('');
    expect(log).toContain('device registered');
    expect(log).toContain('redaction probe');
    expect(log).toContain('[redacted]');
    for (const secret of [registered.json().secret, created.json().token, h.tokens.admin, 'gw_a_wrong_guess', 'should-not-appear', 'nor-this', 'nor-that', 'Body-only name']) {
      expect(log).not.toContain(secret);
    }
  });
});
