import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../../gateway/src/adapters/sqlite/database.js';
import { SqliteTimeSeries } from '../../../gateway/src/adapters/sqlite/time-series.js';
import { sinkConformance } from '../../support/sink-conformance.js';
import { event, ManualTimers, reading, tempDir, type TempDir } from './support/fixtures.js';

const DAY = 86_400_000;

sinkConformance('SqliteTimeSeries', async () => {
  const dir = tempDir();
  const db = openDatabase(dir.file('gridwatch.db'));
  const sink = new SqliteTimeSeries(db);
  return {
    sink,
    settle: () => sink.flush(),
    readReadings: async (deviceId, measurement) =>
      sink
        .readings({ deviceId, measurement, from: 0, to: Number.MAX_SAFE_INTEGER, limit: 10_000 })
        .reverse()
        .map((r) => ({ ts: r.ts, value: r.value })),
    readEvents: async (deviceId) =>
      sink
        .events({ deviceId, from: 0, to: Number.MAX_SAFE_INTEGER, limit: 10_000 })
        .reverse()
        .map((e) => ({ ts: e.ts, type: e.type })),
    dispose: async () => {
      await sink.close();
      db.close();
      dir.remove();
    },
  };
});

describe('SqliteTimeSeries', () => {
  let dir: TempDir;
  let db: Database;
  let timers: ManualTimers;
  let series: SqliteTimeSeries;
  const count = (table: string): number => db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;

  beforeEach(() => {
    dir = tempDir();
    db = openDatabase(dir.file('gridwatch.db'));
    timers = new ManualTimers();
    series = new SqliteTimeSeries(db, { batchSize: 10, flushIntervalMs: 200, retentionDays: 30, clock: timers.clock, timers });
  });

  afterEach(async () => {
    await series.close();
    if (db.open) db.close();
    dir.remove();
  });

  describe('batching', () => {
    it('holds writes in memory until the flush interval, then commits them together', () => {
      series.writeReadings([reading('d1', 1000, { temperature: 20 })]);
      timers.advance(50);
      series.writeEvents([event('d1', 1001, 'smoke.alarm')]);
      expect(count('readings') + count('events')).toBe(0);
      expect(series.health()).toMatchObject({ ok: true, pending: 2, lagMs: 50 });
      timers.advance(149);
      expect(count('readings')).toBe(0);
      timers.advance(1);
      expect(count('readings')).toBe(1);
      expect(count('events')).toBe(1);
      expect(series.health()).toMatchObject({ ok: true, pending: 0, lagMs: 0 });
      expect(timers.armed()).toBe(0);
    });

    it('commits a full batch at once, without waiting for the timer', () => {
      series.writeReadings(Array.from({ length: 10 }, (_, i) => reading('d1', 1000 + i, { temperature: i })));
      expect(count('readings')).toBe(10);
      expect(series.health().pending).toBe(0);
    });

    it('flush() commits everything pending now', async () => {
      series.writeReadings([reading('d1', 1, { temperature: 1, smoke_density: 0.1 })]);
      await series.flush();
      expect(count('readings')).toBe(2);
    });
  });

  describe('acknowledge after commit', () => {
    const nextTurn = () => new Promise<void>((r) => setImmediate(r));

    it('calls back once what was handed over is committed, grouping the callers of one turn', async () => {
      const acked: number[] = [];
      series.writeReadings([reading('d1', 1000, { temperature: 20 })]);
      series.afterCommit(() => acked.push(1));
      series.writeReadings([reading('d1', 1001, { temperature: 21 })]);
      series.afterCommit(() => acked.push(2));
      expect(acked).toEqual([]);
      expect(count('readings')).toBe(0);
      await nextTurn();
      expect(count('readings')).toBe(2);
      expect(acked).toEqual([1, 2]);
    });

    it('answers at once when nothing is pending', () => {
      let acked = false;
      series.afterCommit(() => (acked = true));
      expect(acked).toBe(true);
    });

    it('holds the callers while commits fail and releases them when one succeeds', async () => {
      let acked = false;
      db.pragma('query_only = ON');
      series.writeReadings([reading('d1', 1000, { temperature: 20 })]);
      series.afterCommit(() => (acked = true));
      await nextTurn();
      expect(acked).toBe(false);
      timers.advance(200);
      expect(acked).toBe(false);
      db.pragma('query_only = OFF');
      timers.advance(200);
      expect(acked).toBe(true);
      expect(count('readings')).toBe(1);
    });
  });

  describe('redelivery', () => {
    it('stores a reading redelivered with the same device, measurement and ts once, keeping the first', async () => {
      series.writeReadings([reading('d1', 1000, { temperature: 20 }, { seq: 1 })]);
      await series.flush();
      series.writeReadings([reading('d1', 1000, { temperature: 20 }, { seq: 1 }), reading('d1', 1000, { temperature: 99 }, { seq: 1 })]);
      await series.flush();
      expect(series.readings({ deviceId: 'd1', from: 0, to: 2000, limit: 10 })).toEqual([
        { ts: 1000, measurement: 'temperature', value: 20, seq: 1 },
      ]);
    });

    it('keys events by device, ts, type and seq: distinct seqs at one instant are kept', async () => {
      series.writeEvents([
        event('d1', 1000, 'door.access_granted', { seq: 1, attrs: { personRef: 'p-1' } }),
        event('d1', 1000, 'door.access_granted', { seq: 2, attrs: { personRef: 'p-2' } }),
        event('d1', 1000, 'door.access_granted', { seq: 2, attrs: { personRef: 'p-2' } }),
        event('d1', 1000, 'smoke.heartbeat'),
        event('d1', 1000, 'smoke.heartbeat'),
      ]);
      await series.flush();
      const events = series.events({ deviceId: 'd1', from: 0, to: 2000, limit: 10 });
      expect(events).toHaveLength(3);
      expect(events.find((e) => e.seq === 2)).toEqual({
        ts: 1000,
        type: 'door.access_granted',
        signalClass: 'alarm',
        seq: 2,
        attrs: { personRef: 'p-2' },
      });
    });
  });

  describe('queries', () => {
    beforeEach(async () => {
      for (let i = 0; i < 10; i++) series.writeReadings([reading('d1', 1000 * i, { temperature: i, smoke_density: i / 10 })]);
      series.writeReadings([reading('d2', 5000, { temperature: 50 })]);
      series.writeEvents([event('d1', 2000, 'smoke.alarm'), event('d1', 8000, 'smoke.heartbeat'), event('d2', 3000, 'smoke.alarm')]);
      await series.flush();
    });

    it('returns one device and measurement, newest first, within [from, to], limited', () => {
      const rows = series.readings({ deviceId: 'd1', measurement: 'temperature', from: 2000, to: 7000, limit: 3 });
      expect(rows.map((r) => [r.ts, r.value])).toEqual([
        [7000, 7],
        [6000, 6],
        [5000, 5],
      ]);
    });

    it('returns all measurements of a device when none is named', () => {
      const rows = series.readings({ deviceId: 'd1', from: 9000, to: 9000, limit: 10 });
      expect(rows).toEqual([
        { ts: 9000, measurement: 'smoke_density', value: 0.9, seq: null },
        { ts: 9000, measurement: 'temperature', value: 9, seq: null },
      ]);
      expect(series.readings({ deviceId: 'nobody', from: 0, to: 1e12, limit: 10 })).toEqual([]);
    });

    it('returns events newest first with their attributes', () => {
      expect(series.events({ deviceId: 'd1', from: 0, to: 10_000, limit: 10 }).map((e) => [e.ts, e.type])).toEqual([
        [8000, 'smoke.heartbeat'],
        [2000, 'smoke.alarm'],
      ]);
      expect(series.events({ deviceId: 'd1', from: 0, to: 10_000, limit: 1 })).toHaveLength(1);
    });
  });

  describe('retention', () => {
    it('prune deletes readings and events older than the retention period, and nothing newer', async () => {
      const now = 100 * DAY;
      series.writeReadings([
        reading('d1', now - 31 * DAY, { temperature: 1 }),
        reading('d1', now - 29 * DAY, { temperature: 2 }),
        reading('d2', now - 40 * DAY, { temperature: 3, smoke_density: 0 }),
      ]);
      series.writeEvents([event('d1', now - 31 * DAY, 'smoke.alarm'), event('d3', now - DAY, 'smoke.alarm')]);
      await series.flush();
      expect(await series.prune(now)).toEqual({ readings: 3, events: 1 });
      expect(series.readings({ deviceId: 'd1', from: 0, to: now, limit: 10 }).map((r) => r.value)).toEqual([2]);
      expect(count('readings')).toBe(1);
      expect(count('events')).toBe(1);
    });

    it('prunes across many devices, a few hundred per transaction', async () => {
      const now = 100 * DAY;
      const old = Array.from({ length: 450 }, (_, i) => reading(`dev-${i}`, now - 60 * DAY, { temperature: i }));
      series.writeReadings(old);
      series.writeReadings([reading('dev-1', now, { temperature: 1 })]);
      await series.flush();
      expect(await series.prune(now)).toEqual({ readings: 450, events: 0 });
      expect(count('readings')).toBe(1);
    });
  });

  describe('failed writes', () => {
    it('keeps the batch when the database refuses writes, reports why, and writes it on the next flush', async () => {
      series.writeReadings([reading('d1', 1000, { temperature: 20 })]);
      // query_only makes every write fail with SQLITE_READONLY, as a read-only file would.
      db.pragma('query_only = ON');
      await expect(series.flush()).rejects.toThrow(/readonly/i);
      series.writeReadings([reading('d1', 2000, { temperature: 21 })]);
      timers.advance(200);
      const down = series.health();
      expect(down.ok).toBe(false);
      expect(down.pending).toBe(2);
      expect(down.detail).toMatch(/SQLITE_READONLY/);
      expect(down.lagMs).toBe(200);

      db.pragma('query_only = OFF');
      timers.advance(200); // the timer retries on its own
      expect(series.health()).toMatchObject({ ok: true, pending: 0 });
      expect(series.readings({ deviceId: 'd1', from: 0, to: 5000, limit: 10 }).map((r) => r.value)).toEqual([21, 20]);
    });

    it('stays bounded while failing: drops the oldest beyond maxPending and says how many', async () => {
      await series.close();
      series = new SqliteTimeSeries(db, { batchSize: 10, maxPending: 25, clock: timers.clock, timers });
      db.pragma('query_only = ON');
      for (let i = 0; i < 40; i++) series.writeReadings([reading('d1', i, { temperature: i })]);
      expect(series.health().pending).toBe(25);
      expect(series.dropped()).toBe(15);
      expect(series.health().detail).toMatch(/dropped 15 messages/);
      db.pragma('query_only = OFF');
      await series.flush();
      const stored = series.readings({ deviceId: 'd1', from: 0, to: 100, limit: 100 }).map((r) => r.value);
      expect(stored).toHaveLength(25);
      expect(Math.min(...stored)).toBe(15);
    });

    it('drops a message it cannot store without blocking the others, and counts it', async () => {
      series.writeReadings([reading('d1', 1, { temperature: 'hot' as unknown as number, smoke_density: 1 })]);
      series.writeEvents([
        event('d1', 2, 'smoke.alarm'),
        // JSON.stringify throws on a BigInt: a caller's bug, not a database failure.
        event('d1', 3, 'smoke.alarm', { attrs: { big: 10n as unknown as number } }),
        event('d1', 4, 'smoke.alarm'),
      ]);
      await series.flush();
      const health = series.health();
      expect(health).toMatchObject({ ok: true, pending: 0 });
      expect(health.detail).toMatch(/1 unwritable messages dropped/);
      expect(series.readings({ deviceId: 'd1', from: 0, to: 10, limit: 10 })).toEqual([
        { ts: 1, measurement: 'smoke_density', value: 1, seq: null },
      ]);
      expect(series.events({ deviceId: 'd1', from: 0, to: 10, limit: 10 }).map((e) => e.ts)).toEqual([4, 2]);
    });
  });

  it('close() writes what is pending and cancels its timer', async () => {
    series.writeReadings([reading('d1', 1, { temperature: 1 })]);
    await series.close();
    expect(count('readings')).toBe(1);
    expect(timers.armed()).toBe(0);
  });
});
