/**
 * Devices with wrong clocks: a reading whose timestamp is within the configured bounds
 * (GRIDWATCH_MAX_FUTURE_SKEW_S ahead, GRIDWATCH_MAX_PAST_AGE_S behind) is accepted with the
 * device's time; beyond them it is rejected as timestamp_future / timestamp_past, dead-lettered
 * and counted. The gateway's clock is a manual one, so the bounds are exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, publishAcked, settle, startHarness, until, type Harness } from '../support/gateway-harness.js';
import { report } from './support/figures.js';

describe('clock skew on devices', () => {
  const clock = new ManualClock(Date.parse('2026-11-26T08:00:00Z'));
  let h: Harness;
  let secret: string;

  beforeAll(async () => {
    h = await startHarness({ GRIDWATCH_MAX_FUTURE_SKEW_S: '120', GRIDWATCH_MAX_PAST_AGE_S: '86400' }, { clock });
    secret = await h.register('skew-1', 'smoke');
  });
  afterAll(async () => h?.close());

  it('accepts readings within the bounds and rejects, counts and dead-letters those beyond', async ({ task }) => {
    const now = clock.now();
    const cases: Array<{ offsetMs: number; expect: 'accepted' | 'timestamp_future' | 'timestamp_past' }> = [
      { offsetMs: 0, expect: 'accepted' },
      { offsetMs: 119_000, expect: 'accepted' },
      { offsetMs: 120_000, expect: 'accepted' },
      { offsetMs: 121_000, expect: 'timestamp_future' },
      { offsetMs: 3_600_000, expect: 'timestamp_future' },
      { offsetMs: -86_399_000, expect: 'accepted' },
      { offsetMs: -86_401_000, expect: 'timestamp_past' },
      { offsetMs: -365 * 86_400_000, expect: 'timestamp_past' },
    ];
    const device = await h.connect('skew-1', secret);
    let seq = 0;
    for (const c of cases) {
      // Half as ISO 8601 with a zone offset, half as epoch ms: both forms are bounded alike.
      const ts = seq % 2 === 0 ? new Date(now + c.offsetMs).toISOString().replace('Z', '+00:00') : now + c.offsetMs;
      await publishAcked(device, 'gridwatch/v1/skew-1/telemetry', { ts, seq: ++seq, temperature: 20 + seq });
    }
    await device.endAsync();
    const counts = h.gateway.pipeline.counts;
    await until(() => counts.received === cases.length, 'every reading to reach the pipeline');
    await settle(h.gateway);

    const want = (e: string) => cases.filter((c) => c.expect === e).length;
    expect(counts.accepted).toBe(want('accepted'));
    expect(counts.rejectedByReason).toEqual({ timestamp_future: want('timestamp_future'), timestamp_past: want('timestamp_past') });
    const readings = await h.api('GET', `/api/v1/devices/skew-1/readings?measurement=temperature&from=${now - 2 * 86_400_000}&to=${now + 86_400_000}`);
    const storedTs = readings.body.items.map((r: { ts: string }) => Date.parse(r.ts) - now).sort((a: number, b: number) => a - b);
    expect(storedTs).toEqual(cases.filter((c) => c.expect === 'accepted').map((c) => c.offsetMs).sort((a, b) => a - b));
    const dead = await h.api('GET', '/api/v1/dead-letters?deviceId=skew-1');
    expect(dead.body.items.map((d: { reason: string }) => d.reason).sort()).toEqual(['timestamp_future', 'timestamp_future', 'timestamp_past', 'timestamp_past']);
    const metrics = String((await h.api('GET', '/metrics')).body);
    expect(metrics).toContain('gridwatch_messages_rejected_total{reason="timestamp_future"} 2');
    expect(metrics).toContain('gridwatch_messages_rejected_total{reason="timestamp_past"} 2');
    report(task, {
      scenario: 'clock skew (bounds +120 s / -1 day)',
      tried: cases.length,
      accepted: counts.accepted,
      rejected: { ...counts.rejectedByReason },
      lost: want('accepted') - readings.body.items.length,
    });
  });
});
