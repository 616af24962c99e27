/**
 * Notification endpoints failing or slow, with a whole in-process gateway and real receivers:
 * a permanently failing channel falls back to the person's next one, a 503 is retried, every
 * attempt leaves a receipt; and a webhook that takes 9 s to answer does not slow ingest down
 * (the outbox sends in the background).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_VERIFICATION, publishAcked, startHarness, testSite, until, type Harness } from '../support/gateway-harness.js';
import { report } from './support/figures.js';

const SLOW_MS = 9_000;

function site(hook: string): string {
  return testSite(
    [
      { id: 'b1', name: 'Building 1', rules: NO_VERIFICATION },
      { id: 'b2', name: 'Building 2', rules: NO_VERIFICATION },
    ],
    [
      { id: 'cap-1', name: 'Captain One', role: 'captain', scope: ['b1'], channels: [{ type: 'webhook', target: `${hook}/gone` }, { type: 'webhook', target: `${hook}/flaky` }] },
      { id: 'cap-2', name: 'Captain Two', role: 'captain', scope: ['b2'], channels: [{ type: 'webhook', target: `${hook}/slow` }] },
    ],
  );
}


describe('notification endpoints failing or slow', () => {
  const hits: Record<string, number> = {};
  const delivered: string[] = [];
  let receiver: Server;
  let h: Harness;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const p = req.url ?? '';
      hits[p] = (hits[p] ?? 0) + 1;
      req.resume();
      req.on('end', () => {
        const ok = () => {
          delivered.push(p);
          res.writeHead(200).end('{}');
        };
        if (p === '/gone') res.writeHead(410).end();
        else if (p === '/flaky' && hits[p] === 1) res.writeHead(503).end();
        else if (p === '/slow') setTimeout(ok, SLOW_MS);
        else ok();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    h = await startHarness({ GRIDWATCH_WEBHOOK_SECRET: 'fault-hook-secret-0123456789abcdef' }, { site: site(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}`) });
  });
  afterAll(async () => {
    await h?.close();
    receiver.closeAllConnections();
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  it('falls back from a failing channel, retries a 503, and records every attempt', async ({ task }) => {
    const device = await h.connect('nf-smk-1', await h.register('nf-smk-1', 'smoke', 'b1'));
    await publishAcked(device, 'gridwatch/v1/nf-smk-1/event', { type: 'smoke.alarm', seq: 1 });
    await device.endAsync();
    await until(() => delivered.includes('/flaky'), 'the notice to arrive on the fallback channel after a retry', 15_000);
    const alert = (await h.api('GET', '/api/v1/alerts?deviceId=nf-smk-1')).body.items[0];
    const attempts = h.gateway.outbox.attempts({ alertId: alert.id });
    expect(attempts.map((a) => a.outcome)).toEqual(['fallback', 'retry', 'sent']);
    expect(attempts.map((a) => a.code)).toEqual(['http_410', 'http_503', expect.stringMatching(/200|http_200|ok/i)]);
    const receipts = h.gateway.outbox.receipts({ alertId: alert.id, limit: 10 });
    expect(receipts).toHaveLength(1);
    report(task, { scenario: 'failing notification channel', tried: 1, accepted: 1, notes: { attempts: attempts.map((a) => `${a.outcome}:${a.code}`).join('>') } });
  });

  it('keeps ingesting at full speed while a webhook takes 9 s to answer', async ({ task }) => {
    const id = 'nf-smk-2';
    const device = await h.connect(id, await h.register(id, 'smoke', 'b2'));
    let seq = 0;
    const burst = async (n: number) => {
      const t0 = performance.now();
      const inFlight: Array<Promise<unknown>> = [];
      for (let i = 0; i < n; i++) inFlight.push(device.publishAsync(`gridwatch/v1/${id}/telemetry`, JSON.stringify({ ts: Date.now(), seq: ++seq, temperature: 21 }), { qos: 1 }));
      await Promise.all(inFlight);
      return n / ((performance.now() - t0) / 1000);
    };
    await burst(500);
    const fastRate = await burst(3000);
    await publishAcked(device, `gridwatch/v1/${id}/event`, { type: 'smoke.alarm', seq: ++seq });
    await until(() => (hits['/slow'] ?? 0) === 1, 'the slow webhook to be called');
    const slowRate = await burst(3000);
    const stillWaiting = !delivered.includes('/slow');
    await until(() => delivered.includes('/slow'), 'the slow webhook to answer', SLOW_MS + 5_000);
    await until(() => h.gateway.outbox.counts().pending === 0, 'the outbox to record the delivery', 5_000);
    await device.endAsync();
    report(task, { scenario: 'slow (9 s) webhook vs ingest', tried: seq, accepted: seq, notes: { ingestPerSecondFastHook: Math.round(fastRate), ingestPerSecondSlowHook: Math.round(slowRate) } });
    expect(stillWaiting).toBe(true);
    expect(slowRate).toBeGreaterThan(fastRate * 0.5);
  });
});
