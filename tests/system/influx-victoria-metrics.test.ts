/**
 * InfluxSink against a real time-series database: Debian's VictoriaMetrics, which ingests
 * InfluxDB line protocol on /api/v2/write. Runs the sink conformance suite, then a real outage:
 * the database process is stopped for 30 s while readings keep streaming, restarted on the same
 * storage and port, and every reading must then be stored exactly once with its original
 * timestamp. Real time is used for the outage because the outage is a real process going away.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxSink } from '../../gateway/src/adapters/influx/influx-sink.js';
import type { Reading } from '../../gateway/src/domain/message.js';
import { sinkConformance, type StoredEvent, type StoredPoint } from '../support/sink-conformance.js';
import { tempDir, type TempDir } from '../unit/storage/support/fixtures.js';
import { VictoriaMetrics, type ExportedSeries } from './support/victoria-metrics.js';

let dir: TempDir;
let vm: VictoriaMetrics;

beforeAll(async () => {
  dir = tempDir('gridwatch-vm-');
  vm = await VictoriaMetrics.start(dir.file('vm-data'));
});

afterAll(async () => {
  await vm?.stop();
  dir?.remove();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function flatten(series: ExportedSeries[]): Array<{ ts: number; value: number; labels: Record<string, string> }> {
  return series
    .flatMap((s) => s.timestamps.map((ts, i) => ({ ts, value: s.values[i] ?? Number.NaN, labels: s.metric })))
    .sort((a, b) => a.ts - b.ts);
}

let sinkCounter = 0;
function newSink(options: { flushIntervalMs?: number; batchSize?: number } = {}): InfluxSink {
  sinkCounter += 1;
  return new InfluxSink({
    url: vm.url,
    token: 'unused-by-victoria-metrics',
    org: 'gridwatch',
    bucket: 'gridwatch',
    spoolFile: dir.file(`spool-${sinkCounter}/influx-spool.db`),
    flushIntervalMs: options.flushIntervalMs ?? 50,
    batchSize: options.batchSize ?? 5000,
    retry: { minDelayMs: 200, maxDelayMs: 2000 },
  });
}

sinkConformance('InfluxSink → VictoriaMetrics', async () => {
  const sink = newSink();
  return {
    sink,
    settle: async () => {
      await sink.drain();
      await vm.forceFlush();
    },
    readReadings: async (deviceId, measurement): Promise<StoredPoint[]> =>
      flatten(await vm.export(`{__name__="smoke_${measurement}",device="${deviceId}"}`)).map(({ ts, value }) => ({ ts, value })),
    readEvents: async (deviceId): Promise<StoredEvent[]> =>
      flatten(await vm.export(`{__name__="device_event_count",device="${deviceId}"}`)).map(({ ts, labels }) => ({
        ts,
        type: labels.type ?? '',
      })),
    dispose: () => sink.close(),
  };
});

describe('InfluxSink through a 30 s VictoriaMetrics outage', () => {
  it('stores every reading streamed before, during and after the outage exactly once, with its timestamp', async () => {
    const sink = newSink({ flushIntervalMs: 200, batchSize: 1000 });
    const run = `outage-${Date.now().toString(36)}`;
    const devices = Array.from({ length: 10 }, (_, i) => `${run}-${i}`);
    const written = new Map<string, number[]>(devices.map((d) => [d, []]));
    let lastTs = 0;
    let streaming = true;
    const rowsAtStart = await vm.influxRowsInserted();

    // 10 devices, one reading each every 50 ms (200 readings/s), as the pipeline would hand them over.
    const stream = (async () => {
      let n = 0;
      while (streaming) {
        const ts = Math.max(Date.now(), lastTs + 1);
        lastTs = ts;
        const batch: Reading[] = devices.map((deviceId, i) => ({
          deviceId,
          kind: 'smoke',
          buildingId: 'b-outage',
          floor: i,
          ts,
          receivedAt: ts,
          seq: n,
          values: { temperature: 20 + (n % 100) / 10 },
        }));
        sink.writeReadings(batch);
        for (const d of devices) written.get(d)?.push(ts);
        n += 1;
        await sleep(50);
      }
    })();

    await sleep(5_000);
    const rowsBeforeOutage = await vm.influxRowsInserted();
    await vm.stop();
    const outageStart = Date.now();
    await sleep(3_000);
    const down = sink.health();
    expect(down.ok).toBe(false);
    expect(down.detail).toMatch(/database unreachable since/);
    await sleep(27_000);
    const duringOutage = sink.health();
    expect(duringOutage.pending).toBeGreaterThan(0);
    expect(duringOutage.lagMs).toBeGreaterThan(25_000);
    await vm.restart();
    const outageMs = Date.now() - outageStart;
    await sleep(5_000);
    streaming = false;
    await stream;

    const drainStart = Date.now();
    await sink.drain();
    const drainMs = Date.now() - drainStart;
    expect(sink.health()).toMatchObject({ ok: true, pending: 0 });
    await vm.forceFlush();
    const rowsAfterRestart = await vm.influxRowsInserted();
    await sink.close();

    const writtenTotal = devices.reduce((sum, d) => sum + (written.get(d)?.length ?? 0), 0);
    // VictoriaMetrics makes rows searchable shortly after acknowledging them, a little later for
    // series it re-registers after a restart: poll (bounded) until the count stops short no more.
    const readBack = async () =>
      new Map(
        await Promise.all(
          devices.map(async (d) => [d, flatten(await vm.export(`{__name__="smoke_temperature",device="${d}"}`)).map((p) => p.ts)] as const),
        ),
      );
    let stored = await readBack();
    let foundTotal = [...stored.values()].reduce((sum, ts) => sum + ts.length, 0);
    const visibleBy = Date.now() + 20_000;
    while (foundTotal < writtenTotal && Date.now() < visibleBy) {
      await sleep(500);
      await vm.forceFlush();
      stored = await readBack();
      foundTotal = [...stored.values()].reduce((sum, ts) => sum + ts.length, 0);
    }
    const visibleAfterMs = Date.now() - (visibleBy - 20_000);
    for (const device of devices) expect(stored.get(device)).toEqual(written.get(device));
    // Each line carries temperature and seq: VictoriaMetrics counts two rows per line. The count
    // taken just before the stop misses the last moment, so this is a lower bound.
    const linesReceived = Math.floor((rowsBeforeOutage - rowsAtStart + rowsAfterRestart) / 2);
    console.log(
      `outage ${Math.round(outageMs / 1000)} s; readings written ${writtenTotal}, found ${foundTotal}; ` +
        `lines received by the database ≥ ${linesReceived} (resends are deduplicated by timestamp); ` +
        `spool drained in ${drainMs} ms, all visible ${visibleAfterMs} ms later; dropped ${sink.droppedLines()}, rejected ${sink.rejectedLines()}`,
    );
    expect(foundTotal).toBe(writtenTotal);
    expect(writtenTotal).toBeGreaterThan(5_000);
    expect(sink.droppedLines()).toBe(0);
    expect(sink.rejectedLines()).toBe(0);
  });
});
