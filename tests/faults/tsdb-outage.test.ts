/**
 * The time-series database (VictoriaMetrics, speaking InfluxDB line protocol) goes down for 60 s
 * while devices keep publishing through the whole gateway (MQTT → pipeline → InfluxSink spool).
 * Nothing is lost and nothing is doubled: after the database is back, every reading is in it
 * exactly once with its device timestamp, and in the embedded store too. Real time is used for
 * the outage because the outage is a real process going away.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InfluxSink } from '../../gateway/src/adapters/influx/influx-sink.js';
import { settle, startHarness, until, type Harness } from '../support/gateway-harness.js';
import { VictoriaMetrics } from '../system/support/victoria-metrics.js';
import { report } from './support/figures.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const DEVICES = Array.from({ length: 5 }, (_, i) => `tsdb-${i}`);
const OUTAGE_MS = 60_000;

describe('time-series database down for 60 s under load, through the whole gateway', () => {
  const vmDir = mkdtempSync(path.join(tmpdir(), 'gridwatch-vm-'));
  let vm: VictoriaMetrics;
  let h: Harness;

  beforeAll(async () => {
    vm = await VictoriaMetrics.start(vmDir);
    h = await startHarness({ GRIDWATCH_INFLUX_URL: vm.url, GRIDWATCH_INFLUX_TOKEN: 'unused-by-victoria-metrics', GRIDWATCH_INFLUX_ORG: 'gridwatch', GRIDWATCH_INFLUX_BUCKET: 'gridwatch' });
  });
  afterAll(async () => {
    await h?.close();
    await vm?.stop();
    rmSync(vmDir, { recursive: true, force: true });
  });

  it('spools during the outage and replays it after: every reading stored once, none lost', async ({ task }) => {
    const clients = new Map<string, MqttClient>();
    for (const id of DEVICES) clients.set(id, await h.connect(id, await h.register(id, 'smoke')));
    const sent = new Map<string, number[]>(DEVICES.map((d) => [d, []]));
    let streaming = true;
    let seq = 0;
    // 5 devices, one reading each every 50 ms (100 readings/s), QoS 1.
    const stream = (async () => {
      while (streaming) {
        seq++;
        const ts = Date.now();
        await Promise.all(
          DEVICES.map(async (id) => {
            await clients.get(id)!.publishAsync(`gridwatch/v1/${id}/telemetry`, JSON.stringify({ ts, seq, temperature: 20 + (seq % 50) / 10 }), { qos: 1 });
            sent.get(id)!.push(ts);
          }),
        );
        await sleep(50);
      }
    })();

    const influx = h.gateway.sinks.find((s) => s.name !== 'sqlite') as InfluxSink;
    await sleep(5_000);
    await vm.stop();
    await sleep(OUTAGE_MS);
    const during = influx.health();
    const health = await h.api('GET', '/health');
    await vm.restart();
    await sleep(5_000);
    streaming = false;
    await stream;
    for (const c of clients.values()) await c.endAsync();

    const tried = [...sent.values()].reduce((a, t) => a + t.length, 0);
    await until(() => h.gateway.pipeline.counts.accepted === tried, 'every reading to be accepted');
    await settle(h.gateway);
    const drainStart = Date.now();
    await influx.drain();
    const drainMs = Date.now() - drainStart;
    await vm.forceFlush();

    const readBack = async () => {
      const out = new Map<string, number[]>();
      for (const id of DEVICES) {
        const series = await vm.export(`{__name__="smoke_temperature",device="${id}"}`);
        out.set(id, series.flatMap((s) => s.timestamps).sort((a, b) => a - b));
      }
      return out;
    };
    let stored = await readBack();
    const count = (m: Map<string, number[]>) => [...m.values()].reduce((a, t) => a + t.length, 0);
    const visibleBy = Date.now() + 20_000;
    while (count(stored) < tried && Date.now() < visibleBy) {
      await sleep(500);
      await vm.forceFlush();
      stored = await readBack();
    }
    const embedded = await Promise.all(DEVICES.map(async (id) => (await h.api('GET', `/api/v1/devices/${id}/readings?measurement=temperature&limit=10000`)).body.items.length as number));

    const lost = DEVICES.reduce((a, id) => a + sent.get(id)!.filter((ts) => !stored.get(id)!.includes(ts)).length, 0);
    const extra = count(stored) - tried;
    report(task, {
      scenario: 'time-series database down 60 s',
      tried,
      accepted: h.gateway.pipeline.counts.accepted,
      lost,
      notes: { spooledAtWorst: during.pending, lagSecondsAtWorst: Math.round(during.lagMs / 1000), replayDrainMs: drainMs, duplicates: extra, healthDuringOutage: health.body.status },
    });
    expect(during.ok).toBe(false);
    expect(during.pending).toBeGreaterThan(0);
    expect(health.body.checks[`sink:${influx.name}`].ok).toBe(false);
    for (const id of DEVICES) expect(stored.get(id)).toEqual(sent.get(id));
    expect(lost).toBe(0);
    expect(extra).toBe(0);
    expect(embedded.reduce((a, b) => a + b, 0)).toBe(tried);
    expect(influx.health()).toMatchObject({ ok: true, pending: 0 });
  });
});
