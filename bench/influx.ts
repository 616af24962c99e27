/**
 * The InfluxDB sink against a private VictoriaMetrics (InfluxDB line protocol on /api/v2/write):
 * points/s written while publishers run flat out, then an outage under a steady load (the
 * database stopped for a few seconds) and the spool's replay rate once it is back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { VictoriaMetrics } from '../tests/system/support/victoria-metrics.js';
import { round, sleep, spawnPublisher, startGateway, type BenchDevice } from './common.js';

export function victoriaMetricsAvailable(): boolean {
  return spawnSync(process.env.VICTORIA_METRICS_BIN ?? 'victoria-metrics', ['-version'], { stdio: 'ignore' }).error === undefined;
}

export interface InfluxResult {
  /** Points (line-protocol rows) the database took per second while the publishers ran flat out. */
  pointsPerS: number;
  /** Messages/s the gateway took meanwhile (every message goes to SQLite and to the spool). */
  messagesPerS: number;
  outageS: number;
  /** Lines in the spool when the database came back. */
  backlogLines: number;
  /** Points/s the database took from the first replayed batch until the spool was empty again (new lines included). */
  replayPointsPerS: number;
  /** Seconds from the database's return to an empty spool (includes the sink's retry backoff). */
  recoveryS: number;
  /** Seconds from the first replayed batch to an empty spool. */
  drainS: number;
  pendingAfter: number;
}

interface SinkView {
  health(): { pending: number };
}

export async function influxSink(devices: BenchDevice[], s: { seconds: number; window: number; loadRate: number; outageS: number }): Promise<InfluxResult> {
  const storage = mkdtempSync(path.join(os.tmpdir(), 'gridwatch-bench-vm-'));
  const vm = await VictoriaMetrics.start(storage);
  const { gw, dataDir } = await startGateway(devices, {
    env: { GRIDWATCH_INFLUX_URL: vm.url, GRIDWATCH_INFLUX_TOKEN: 'bench', GRIDWATCH_INFLUX_ORG: 'bench', GRIDWATCH_INFLUX_BUCKET: 'bench' },
  });
  const sink = gw.sinks.find((x) => x.name === 'influx') as SinkView | undefined;
  if (!sink) throw new Error('the gateway has no influx sink');
  try {
    // 1. Flat out (QoS 1: the gateway's pace, not the kernel's buffers).
    const flat = await spawnPublisher({ url: gw.mqttUrl(), devices, seconds: s.seconds, qos: 1, window: s.window });
    const flatDone = flat.go();
    await sleep(1000);
    const p0 = await vm.influxRowsInserted();
    const m0 = gw.pipeline.counts.received;
    const t0 = performance.now();
    await sleep((s.seconds - 1) * 1000);
    const p1 = await vm.influxRowsInserted();
    const m1 = gw.pipeline.counts.received;
    const t1 = performance.now();
    await flatDone;
    await waitUntil(() => sink.health().pending === 0, 60_000);

    // 2. Outage under a steady load.
    const steadyS = s.outageS + 25;
    const steady = await spawnPublisher({ url: gw.mqttUrl(), devices, seconds: steadyS, qos: 1, window: s.window, rate: s.loadRate });
    const steadyDone = steady.go();
    await sleep(2000);
    await vm.stop();
    await sleep(s.outageS * 1000);
    await vm.restart();
    const back = performance.now();
    const backlogLines = sink.health().pending;
    const r0 = await vm.influxRowsInserted(); // a fresh process: counts from 0
    let firstWrite = 0;
    while (sink.health().pending > 0 && performance.now() - back < 60_000) {
      if (firstWrite === 0 && sink.health().pending < backlogLines) firstWrite = performance.now();
      await sleep(20);
    }
    const done = performance.now();
    const r1 = await vm.influxRowsInserted();
    const pendingAfter = sink.health().pending;
    steady.child.kill('SIGTERM');
    await steadyDone.catch(() => undefined);
    return {
      pointsPerS: Math.round((p1 - p0) / ((t1 - t0) / 1000)),
      messagesPerS: Math.round((m1 - m0) / ((t1 - t0) / 1000)),
      outageS: s.outageS,
      backlogLines,
      replayPointsPerS: Math.round((r1 - r0) / ((done - (firstWrite || back)) / 1000)),
      recoveryS: round((done - back) / 1000, 2),
      drainS: round((done - (firstWrite || back)) / 1000, 2),
      pendingAfter,
    };
  } finally {
    await gw.stop();
    await vm.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(storage, { recursive: true, force: true });
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition() && performance.now() < deadline) await sleep(50);
}
