/**
 * The embedded time-series store: readings and events in the same SQLite file as the registry,
 * for sites without InfluxDB. Also the read side of the API's readings and events endpoints.
 *
 * Writes are buffered in memory and committed in batches (one transaction, prepared statements):
 * a commit per message would cost a WAL append per reading. A batch that fails to commit (disk
 * full, read-only file) stays pending and is retried on the next flush; the buffer is bounded by
 * `maxPending`, beyond which the oldest messages are dropped and counted, never silently.
 */
import { systemClock, type Clock, type EventRow, type ReadingQuery, type ReadingRow, type SinkHealth, type TimeSeriesReader, type TimeSeriesSink } from '../../ports.js';
import type { DeviceEvent, Reading } from '../../domain/message.js';
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from './database.js';

export interface SqliteTimeSeriesOptions {
  /** Messages per commit; a full batch is committed at once, without waiting for the timer. */
  batchSize?: number;
  /** Longest a message waits in memory before its commit (bounds loss on a process crash). */
  flushIntervalMs?: number;
  /** `prune()` deletes readings and events older than this. */
  retentionDays?: number;
  /** Most messages held while commits fail; the oldest beyond it are dropped and counted. */
  maxPending?: number;
  clock?: Clock;
  /** Injected for tests; defaults to the global timers (unref'd so they never hold the process). */
  timers?: SinkTimers;
}

export interface SinkTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const defaultTimers: SinkTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface PruneResult {
  readonly readings: number;
  readonly events: number;
  /** Set when the prune stopped part-way (the counts say what was deleted before). */
  readonly error?: string;
}

type Pending =
  | { readonly kind: 'reading'; readonly at: number; readonly reading: Reading }
  | { readonly kind: 'event'; readonly at: number; readonly event: DeviceEvent };

const DAY_MS = 86_400_000;
/**
 * Reading rows per INSERT statement. One statement for many rows saves a native call and a
 * statement reset per row: about 35% more rows/s on the ingest path (bench/README.md). SQLite
 * allows 32 766 bound parameters; 32 rows × 6 columns is far below.
 */
const ROWS_PER_INSERT = 32;
const READING_COLUMNS = 6;
/** Devices pruned per transaction: short transactions keep ingest commits flowing. */
const PRUNE_DEVICES_PER_TX = 200;

export class SqliteTimeSeries implements TimeSeriesSink, TimeSeriesReader {
  readonly name = 'sqlite';
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly retentionMs: number;
  private readonly maxPending: number;
  private readonly clock: Clock;
  private readonly timers: SinkTimers;
  private pending: Pending[] = [];
  private timer: unknown = undefined;
  /** Callers waiting for everything handed over so far to be committed (acknowledge-after-store). */
  private waiters: Array<() => void> = [];
  private commitSoonArmed = false;
  private lastError: Error | null = null;
  private failingSince: number | null = null;
  private droppedCount = 0;
  private unwritableCount = 0;
  private writtenCount = 0;
  private closed = false;
  private readonly stmt;
  private readonly commit: (batch: readonly Pending[]) => void;

  constructor(
    private readonly db: Database,
    options: SqliteTimeSeriesOptions = {},
  ) {
    this.batchSize = positive(options.batchSize ?? 1000, 'batchSize');
    this.flushIntervalMs = positive(options.flushIntervalMs ?? 200, 'flushIntervalMs');
    this.retentionMs = positive(options.retentionDays ?? 30, 'retentionDays') * DAY_MS;
    this.maxPending = positive(options.maxPending ?? 100_000, 'maxPending');
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? defaultTimers;
    this.stmt = {
      insertReading: db.prepare(
        'INSERT OR IGNORE INTO readings (device_id, ts, measurement, seq_key, value, seq) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      // OR IGNORE applies row by row, so a redelivered row among new ones is skipped alone.
      insertReadings: db.prepare(
        `INSERT OR IGNORE INTO readings (device_id, ts, measurement, seq_key, value, seq) VALUES ${Array.from({ length: ROWS_PER_INSERT }, () => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
      ),
      insertEvent: db.prepare(
        `INSERT OR IGNORE INTO events (device_id, ts, type, seq_key, signal_class, seq, attrs)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      readings: db.prepare(
        `SELECT ts, measurement, value, seq FROM readings
         WHERE device_id = ? AND ts >= ? AND ts <= ? ORDER BY ts DESC, measurement, seq_key LIMIT ?`,
      ),
      readingsOf: db.prepare(
        `SELECT ts, measurement, value, seq FROM readings
         WHERE device_id = ? AND ts >= ? AND ts <= ? AND measurement = ? ORDER BY ts DESC, seq_key LIMIT ?`,
      ),
      events: db.prepare(
        `SELECT ts, type, signal_class AS signalClass, seq, attrs FROM events
         WHERE device_id = ? AND ts >= ? AND ts <= ? ORDER BY ts DESC, type, seq_key LIMIT ?`,
      ),
      // Walks the primary keys' leading column with seeks, not a scan of every row.
      nextReadingDevice: db.prepare('SELECT device_id FROM readings WHERE device_id > ? ORDER BY device_id LIMIT 1').pluck(),
      nextEventDevice: db.prepare('SELECT device_id FROM events WHERE device_id > ? ORDER BY device_id LIMIT 1').pluck(),
      pruneReadings: db.prepare('DELETE FROM readings WHERE device_id = ? AND ts < ?'),
      pruneEvents: db.prepare('DELETE FROM events WHERE device_id = ? AND ts < ?'),
    };
    const rowsParams: unknown[] = new Array<unknown>(ROWS_PER_INSERT * READING_COLUMNS);
    this.commit = db.transaction((batch: readonly Pending[]) => {
      // Reading rows are gathered into `rowsParams` and written ROWS_PER_INSERT at a time.
      let filled = 0;
      for (const p of batch) {
        if (p.kind === 'reading') {
          const r = p.reading;
          for (const measurement in r.values) {
            const value = r.values[measurement]!;
            // SQLite stores NaN as NULL, which the NOT NULL column refuses: such a value is not a reading.
            if (!Number.isFinite(value)) continue;
            rowsParams[filled++] = r.deviceId;
            rowsParams[filled++] = r.ts;
            rowsParams[filled++] = measurement;
            rowsParams[filled++] = r.seq ?? 0;
            rowsParams[filled++] = value;
            rowsParams[filled++] = r.seq;
            if (filled === rowsParams.length) {
              this.stmt.insertReadings.run(rowsParams);
              filled = 0;
            }
          }
        } else {
          const e = p.event;
          this.stmt.insertEvent.run(e.deviceId, e.ts, e.type, e.seq ?? 0, e.signalClass, e.seq, JSON.stringify(e.attrs));
        }
      }
      for (let i = 0; i < filled; i += READING_COLUMNS) this.stmt.insertReading.run(rowsParams.slice(i, i + READING_COLUMNS));
    });
  }

  writeReadings(readings: readonly Reading[]): void {
    if (readings.length === 0 || this.closed) return;
    const at = this.clock.now();
    for (const reading of readings) this.pending.push({ kind: 'reading', at, reading });
    this.afterEnqueue();
  }

  writeEvents(events: readonly DeviceEvent[]): void {
    if (events.length === 0 || this.closed) return;
    const at = this.clock.now();
    for (const event of events) this.pending.push({ kind: 'event', at, event });
    this.afterEnqueue();
  }

  /**
   * Calls `done` once everything handed over so far is committed. Commits are grouped: all the
   * callers of one event-loop turn share one transaction, right after that turn. While commits
   * fail, callers wait (the broker then withholds acknowledgements: backpressure, not loss).
   */
  afterCommit(done: () => void): void {
    if (this.pending.length === 0) {
      done();
      return;
    }
    this.waiters.push(done);
    if (this.commitSoonArmed) return;
    this.commitSoonArmed = true;
    setImmediate(() => {
      this.commitSoonArmed = false;
      if (this.lastError === null || this.timer === undefined) this.writePending();
      this.releaseWaiters();
    });
  }

  /** Commits everything pending now; rejects (keeping the batch) when the commit fails. */
  flush(): Promise<void> {
    this.cancelTimer();
    const ok = this.writePending();
    if (this.pending.length > 0) this.armTimer();
    return ok ? Promise.resolve() : Promise.reject(this.lastError ?? new Error('time-series write failed'));
  }

  health(): SinkHealth {
    const oldest = this.pending[0];
    const lagMs = oldest ? Math.max(0, this.clock.now() - oldest.at) : 0;
    let dropped = this.droppedCount > 0 ? `; dropped ${this.droppedCount} messages over the ${this.maxPending} pending limit` : '';
    if (this.unwritableCount > 0) dropped += `; ${this.unwritableCount} unwritable messages dropped`;
    if (this.lastError) {
      const since = new Date(this.failingSince ?? this.clock.now()).toISOString();
      return {
        ok: false,
        pending: this.pending.length,
        lagMs,
        detail: `writes failing since ${since}: ${describe(this.lastError)}${dropped}`,
      };
    }
    return { ok: true, pending: this.pending.length, lagMs, detail: `${this.writtenCount} messages written${dropped}` };
  }

  /** Messages dropped because commits kept failing and the pending buffer was full. */
  dropped(): number {
    return this.droppedCount;
  }

  /** Commits what it can and stops the timer; the database stays open (its owner closes it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.cancelTimer();
    this.writePending();
    this.closed = true;
  }

  /** Newest first: the API shows the latest values and `limit` cuts off the oldest. */
  readings(query: ReadingQuery): ReadingRow[] {
    const limit = clampLimit(query.limit);
    return (
      query.measurement === undefined
        ? this.stmt.readings.all(query.deviceId, query.from, query.to, limit)
        : this.stmt.readingsOf.all(query.deviceId, query.from, query.to, query.measurement, limit)
    ) as ReadingRow[];
  }

  /** Newest first, like readings(). */
  events(query: Omit<ReadingQuery, 'measurement'>): EventRow[] {
    const rows = this.stmt.events.all(query.deviceId, query.from, query.to, clampLimit(query.limit)) as {
      ts: number;
      type: string;
      signalClass: string;
      seq: number | null;
      attrs: string;
    }[];
    return rows.map((r) => ({ ...r, attrs: JSON.parse(r.attrs) as Record<string, unknown> }));
  }

  /**
   * Deletes readings and events older than the retention period, a few hundred devices per
   * transaction and yielding between them, so a large prune never stalls ingest for long.
   */
  async prune(now: number): Promise<PruneResult> {
    const cutoff = now - this.retentionMs;
    const counts = { readings: 0, events: 0 };
    try {
      // Counted as it goes, so a failure part-way still reports what was deleted.
      await this.pruneTable(this.stmt.nextReadingDevice, this.stmt.pruneReadings, cutoff, (n) => (counts.readings += n));
      await this.pruneTable(this.stmt.nextEventDevice, this.stmt.pruneEvents, cutoff, (n) => (counts.events += n));
    } catch (err) {
      // Never rejects: the daily timer that calls it has nobody to hand an error to.
      return { ...counts, error: describe(err as Error) };
    }
    return counts;
  }

  private async pruneTable(
    next: { get(after: string): unknown },
    del: { run(deviceId: string, cutoff: number): { changes: number } },
    cutoff: number,
    count: (deleted: number) => void,
  ): Promise<void> {
    let after = '';
    const step = this.db.transaction(() => {
      let deleted = 0;
      for (let i = 0; i < PRUNE_DEVICES_PER_TX; i++) {
        const deviceId = next.get(after) as string | undefined;
        if (deviceId === undefined) return { more: false, deleted };
        deleted += del.run(deviceId, cutoff).changes;
        after = deviceId;
      }
      return { more: true, deleted };
    });
    for (;;) {
      const { more, deleted } = step();
      count(deleted);
      if (!more) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private afterEnqueue(): void {
    const over = this.pending.length - this.maxPending;
    if (over > 0) {
      // Keep the newest: during a long failure the latest values matter most to the people watching.
      this.pending.splice(0, over);
      this.droppedCount += over;
    }
    // A full batch commits now, unless commits are failing: then the timer paces the retries.
    if (this.pending.length >= this.batchSize && this.lastError === null) {
      this.cancelTimer();
      this.writePending();
    }
    if (this.pending.length > 0) this.armTimer();
  }

  /** Commits all pending messages in batches; on failure keeps the failed batch and what follows. */
  private writePending(): boolean {
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, this.batchSize);
      try {
        this.commit(batch);
      } catch (err) {
        let failure: Error = err as Error;
        if (!(err instanceof BetterSqlite3.SqliteError)) {
          // Not the database failing but a message it cannot bind (a caller's bug): find it
          // rather than retrying a poisoned batch forever.
          const dbError = this.commitOneByOne(batch);
          if (dbError === null) continue;
          failure = dbError;
        }
        this.lastError = failure;
        this.failingSince ??= this.clock.now();
        return false;
      }
      this.pending.splice(0, batch.length);
      this.writtenCount += batch.length;
      this.lastError = null;
      this.failingSince = null;
    }
    this.releaseWaiters();
    return true;
  }

  private releaseWaiters(): void {
    if (this.pending.length > 0 || this.waiters.length === 0) return;
    const waiting = this.waiters;
    this.waiters = [];
    for (const done of waiting) {
      try {
        done();
      } catch {
        // A waiter's failure is its own (the broker reports it); the others still go on.
      }
    }
  }

  /**
   * Commits a batch message by message, dropping (and counting) the ones that cannot be bound.
   * Returns the database's error if the database itself fails meanwhile (the rest stays pending).
   */
  private commitOneByOne(batch: readonly Pending[]): Error | null {
    for (const p of batch) {
      try {
        this.commit([p]);
        this.writtenCount += 1;
      } catch (err) {
        if (err instanceof BetterSqlite3.SqliteError) return err;
        this.unwritableCount += 1;
      }
      this.pending.shift();
    }
    return null;
  }

  private armTimer(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.writePending();
      if (this.pending.length > 0) this.armTimer();
    }, this.flushIntervalMs);
  }

  private cancelTimer(): void {
    if (this.timer === undefined) return;
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function describe(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
}

function positive(value: number, name: string): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`SqliteTimeSeries: ${name} must be a positive number, got ${value}`);
  return value;
}

/** The API validates limits; this only keeps a bad caller from reading the whole table. */
function clampLimit(limit: number): number {
  if (!Number.isFinite(limit) || limit < 1) return 1;
  return Math.min(Math.floor(limit), 100_000);
}
