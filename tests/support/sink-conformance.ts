/**
 * The "abstract" conformance suite for TimeSeriesSink (ports.ts): every sink implementation runs
 * it through a factory that also says how to read back what reached its database. The embedded
 * SQLite store runs it in `npm test`; the InfluxDB sink runs it against VictoriaMetrics in the
 * system tier.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceEvent, Reading } from '../../gateway/src/domain/message.js';
import type { TimeSeriesSink } from '../../gateway/src/ports.js';

export interface StoredPoint {
  readonly ts: number;
  readonly value: number;
}

export interface StoredEvent {
  readonly ts: number;
  readonly type: string;
}

export interface SinkUnderTest {
  readonly sink: TimeSeriesSink;
  /** Waits until everything flushed so far can be read back from the database. */
  settle(): Promise<void>;
  /** Stored points of one device's measurement, oldest first. */
  readReadings(deviceId: string, measurement: string): Promise<StoredPoint[]>;
  /** Stored events of one device, oldest first. */
  readEvents(deviceId: string): Promise<StoredEvent[]>;
  /** Closes the sink if the test did not, and removes what the factory created. */
  dispose(): Promise<void>;
}

/** Whole-second timestamps a day back: inside any database's retention window (VictoriaMetrics
 * refuses samples older than its retention), distinct per test. */
const BASE_TS = Math.floor(Date.now() / 1000) * 1000 - 86_400_000;
let runCounter = 0;

export function sinkConformance(label: string, factory: () => Promise<SinkUnderTest>): void {
  describe(`TimeSeriesSink conformance: ${label}`, () => {
    let t: SinkUnderTest;
    let device: string;
    let base: number;

    beforeEach(async () => {
      t = await factory();
      runCounter += 1;
      // Unique per test so suites sharing one database never see each other's points.
      device = `conf-${process.pid}-${Date.now().toString(36)}-${runCounter}`;
      base = BASE_TS + runCounter * 100_000;
    });

    afterEach(async () => {
      await t.dispose();
    });

    const reading = (ts: number, values: Record<string, number>, seq: number | null = null): Reading => ({
      deviceId: device,
      kind: 'smoke',
      buildingId: 'b-conf',
      floor: 2,
      ts,
      receivedAt: ts,
      seq,
      values,
    });

    const event = (ts: number, type: string, seq: number | null = null): DeviceEvent => ({
      deviceId: device,
      kind: 'smoke',
      buildingId: 'b-conf',
      floor: 2,
      ts,
      receivedAt: ts,
      seq,
      type,
      signalClass: type.endsWith('alarm') ? 'alarm' : 'info',
      attrs: { zone: 'east' },
    });

    it('has a name and starts healthy with nothing pending', () => {
      expect(t.sink.name).toMatch(/^[a-z]+$/);
      const h = t.sink.health();
      expect(h.ok).toBe(true);
      expect(h.pending).toBe(0);
      expect(h.lagMs).toBe(0);
    });

    it('stores every reading with its value and original timestamp', async () => {
      const readings = Array.from({ length: 25 }, (_, i) =>
        reading(base + i * 1000, { temperature: 20 + i / 4, smoke_density: i === 0 ? 0 : i / 100 }, i),
      );
      t.sink.writeReadings(readings.slice(0, 10));
      t.sink.writeReadings(readings.slice(10));
      await t.sink.flush();
      await t.settle();

      const temps = await t.readReadings(device, 'temperature');
      expect(temps).toEqual(readings.map((r) => ({ ts: r.ts, value: r.values.temperature })));
      const density = await t.readReadings(device, 'smoke_density');
      expect(density).toHaveLength(25);
      expect(t.sink.health()).toMatchObject({ ok: true, pending: 0 });
    });

    it('stores a redelivered reading once', async () => {
      const r = reading(base + 5000, { temperature: 21 }, 7);
      t.sink.writeReadings([r]);
      t.sink.writeReadings([r, reading(base + 6000, { temperature: 22 }, 8)]);
      await t.sink.flush();
      t.sink.writeReadings([r]);
      await t.sink.flush();
      await t.settle();
      expect(await t.readReadings(device, 'temperature')).toEqual([
        { ts: base + 5000, value: 21 },
        { ts: base + 6000, value: 22 },
      ]);
    });

    it('stores events with their type and timestamp, a redelivered one once', async () => {
      const alarm = event(base + 1000, 'smoke.alarm', 3);
      t.sink.writeEvents([alarm, event(base + 2000, 'smoke.heartbeat', 4)]);
      t.sink.writeEvents([alarm]);
      await t.sink.flush();
      await t.settle();
      expect(await t.readEvents(device)).toEqual([
        { ts: base + 1000, type: 'smoke.alarm' },
        { ts: base + 2000, type: 'smoke.heartbeat' },
      ]);
    });

    it('never throws on empty batches or values it cannot store, and keeps the rest', async () => {
      expect(() => t.sink.writeReadings([])).not.toThrow();
      expect(() => t.sink.writeEvents([])).not.toThrow();
      expect(() =>
        t.sink.writeReadings([reading(base + 1000, { temperature: Number.NaN, smoke_density: 0.5 }), reading(base + 2000, { temperature: Infinity })]),
      ).not.toThrow();
      await t.sink.flush();
      await t.settle();
      expect(await t.readReadings(device, 'smoke_density')).toEqual([{ ts: base + 1000, value: 0.5 }]);
      expect(await t.readReadings(device, 'temperature')).toEqual([]);
      expect(t.sink.health().ok).toBe(true);
    });

    it('closes idempotently and ignores writes after close without throwing', async () => {
      t.sink.writeReadings([reading(base + 1000, { temperature: 19.5 })]);
      await t.sink.flush();
      await t.settle();
      await t.sink.close();
      await t.sink.close();
      expect(() => t.sink.writeReadings([reading(base + 2000, { temperature: 19 })])).not.toThrow();
    });
  });
}
