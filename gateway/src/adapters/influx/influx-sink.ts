/**
 * InfluxDB 2 sink with a durable spool (write-ahead): every batch handed to the sink is first
 * appended to a SQLite spool file; one shipper loop sends the oldest spooled lines and deletes
 * them only after the database answered 2xx. While the database is down the shipper backs off
 * exponentially and the spool grows; when it comes back the backlog is replayed oldest first with
 * the original timestamps. A batch whose response was lost is sent again, and InfluxDB overwrites
 * a point with the same series and timestamp, so a replay never duplicates data.
 *
 * The client library is used only as the HTTP transport for one batch at a time (see README.md
 * for the write options and why its own retry buffer is switched off).
 */
import { HttpError, InfluxDB, type WriteApi } from '@influxdata/influxdb-client';
import { systemClock, type Clock, type SinkHealth, type TimeSeriesSink } from '../../ports.js';
import type { DeviceEvent, Reading } from '../../domain/message.js';
import type { SinkTimers } from '../sqlite/time-series.js';
import { eventsToLines, readingsToLines, type KindLookup } from './line-protocol.js';
import { DiskSpool } from './spool.js';

export interface InfluxSinkOptions {
  url: string;
  token: string;
  org: string;
  bucket: string;
  /** The spool file, e.g. `{dataDir}/influx-spool.db`; kept across restarts. */
  spoolFile: string;
  /** Most lines per write request (default 5000, InfluxDB's recommended batch). */
  batchSize?: number;
  /** Longest a spooled line waits for a fuller batch before it is sent (default 1000 ms). */
  flushIntervalMs?: number;
  /** Backoff while the database is unreachable: min·2^(n-1), capped at max (defaults 1 s, 30 s). */
  retry?: { minDelayMs?: number; maxDelayMs?: number; /** ± fraction of each delay (default 0.2). */ jitter?: number };
  /** Most lines the spool keeps (default 5,000,000); the oldest beyond are dropped and counted. */
  maxSpoolLines?: number;
  /** Per-request timeout (default 10 s). */
  requestTimeoutMs?: number;
  /**
   * The kind registry (`kindById`): integer measurements are written as integers only when the
   * sink can look up their declaration. Pass it from the first run on: InfluxDB refuses a field
   * whose type changes.
   */
  kindById?: KindLookup;
  clock?: Clock;
  /** Injected for tests; defaults to the global timers, unref'd. */
  timers?: SinkTimers;
  /** Called on each failed send or spool write (the sink itself never throws from write*). */
  onError?: (err: Error) => void;
}

const defaultTimers: SinkTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Lines held in memory while the spool file itself cannot be written (disk full). */
const MAX_UNSPOOLED_LINES = 100_000;

export class InfluxSink implements TimeSeriesSink {
  readonly name = 'influx';
  private readonly spool: DiskSpool;
  private readonly writeApi: WriteApi;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly jitter: number;
  private readonly clock: Clock;
  private readonly timers: SinkTimers;
  private readonly kindById: KindLookup | undefined;
  private readonly onError: (err: Error) => void;

  private timer: unknown = undefined;
  private timerDue = 0;
  private inFlight: Promise<void> | null = null;
  /** Lines per request; halved after a 413 until one line fits. */
  private requestLines: number;
  private failures = 0;
  private downSince: number | null = null;
  private lastSendError: Error | null = null;
  private spoolError: Error | null = null;
  private unspooled: string[] = [];
  private unspooledSince = 0;
  private closed = false;
  private drainWaiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private readonly stats = { linesSent: 0, requests: 0, rejectedLines: 0, droppedLines: 0 };

  constructor(options: InfluxSinkOptions) {
    this.batchSize = positiveInt(options.batchSize ?? 5000, 'batchSize');
    this.flushIntervalMs = nonNegative(options.flushIntervalMs ?? 1000, 'flushIntervalMs');
    this.minDelayMs = positiveInt(options.retry?.minDelayMs ?? 1000, 'retry.minDelayMs');
    this.maxDelayMs = Math.max(this.minDelayMs, positiveInt(options.retry?.maxDelayMs ?? 30_000, 'retry.maxDelayMs'));
    this.jitter = Math.min(0.5, nonNegative(options.retry?.jitter ?? 0.2, 'retry.jitter'));
    this.requestLines = this.batchSize;
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? defaultTimers;
    this.kindById = options.kindById;
    this.onError = options.onError ?? (() => {});
    this.spool = new DiskSpool(options.spoolFile, options.maxSpoolLines === undefined ? {} : { maxLines: options.maxSpoolLines });

    const influx = new InfluxDB({ url: options.url, token: options.token, timeout: options.requestTimeoutMs ?? 10_000 });
    // The WriteApi is only the HTTP transport for one spooled batch at a time:
    // - maxRetries 0 and a writeFailed that returns the rejection: a failed request rejects
    //   flush() at once, without the client's own retry buffer (which keeps lines in memory only
    //   and drops them after maxRetryTime) and without its console logging;
    // - flushInterval 0: no timer of its own; batchSize and maxBatchBytes above any batch we hand
    //   it, so it never sends on its own from writeRecords (such a send's failure would be lost).
    this.writeApi = influx.getWriteApi(options.org, options.bucket, 'ms', {
      batchSize: this.batchSize + 1,
      maxBatchBytes: Number.MAX_SAFE_INTEGER,
      flushInterval: 0,
      maxRetries: 0,
      maxBufferLines: this.batchSize + 1,
      writeFailed: (error: Error) => Promise.reject(error),
    });

    // A backlog left by the previous run starts shipping at once.
    if (this.spool.size() > 0) this.schedule(0);
  }

  writeReadings(readings: readonly Reading[]): void {
    this.accept(() => readingsToLines(readings, this.kindById));
  }

  writeEvents(events: readonly DeviceEvent[]): void {
    this.accept(() => eventsToLines(events));
  }

  /**
   * Ready-made line protocol (e.g. `alertChangeToLine`), through the same write-ahead spool and
   * shipper as readings: never throws, survives outages. Each entry is one complete line, taken
   * as it is (build them with line-protocol.ts, which escapes); blank entries are skipped.
   */
  writeLines(lines: readonly string[]): void {
    this.accept(() => lines.filter((line) => line.trim() !== ''));
  }

  /**
   * Everything handed over is already spooled (write-ahead); flush retries a spool write that
   * had failed and asks the shipper to send now instead of waiting for a fuller batch. It does
   * not wait for the database: see drain().
   */
  async flush(): Promise<void> {
    if (this.closed) return;
    this.spoolBacklog();
    if (this.spoolError) throw this.spoolError;
    if (this.failures === 0) this.schedule(0);
  }

  /** Resolves once the spool is empty (everything acknowledged by the database). */
  drain(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('influx sink is closed'));
    if (this.isDrained()) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
    if (this.failures === 0) this.schedule(0);
    return done;
  }

  /** Resolves when no request is in flight (tests step the shipper with fake timers). */
  async whenIdle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  health(): SinkHealth {
    const now = this.clock.now();
    const pending = this.spoolSize() + this.unspooled.length;
    const lagMs = Math.max(
      this.spool.isClosed() ? 0 : this.spool.oldestAgeMs(now),
      this.unspooled.length > 0 ? now - this.unspooledSince : 0,
    );
    const counts = [
      `${this.stats.linesSent} lines written`,
      `${pending} pending`,
      this.stats.rejectedLines > 0 ? `${this.stats.rejectedLines} rejected by the database` : '',
      this.droppedLines() > 0 ? `${this.droppedLines()} dropped (spool full)` : '',
    ]
      .filter(Boolean)
      .join(', ');
    if (this.spoolError) {
      return { ok: false, pending, lagMs, detail: `spool file not writable: ${this.spoolError.message}; ${counts}` };
    }
    if (this.failures > 0) {
      const since = new Date(this.downSince ?? now).toISOString();
      const why = this.lastSendError ? describe(this.lastSendError) : 'unknown error';
      return { ok: false, pending, lagMs, detail: `database unreachable since ${since} (${why}); ${counts}` };
    }
    return { ok: true, pending, lagMs, detail: pending > 0 ? `draining; ${counts}` : counts };
  }

  /** Lines lost because the spool (or the in-memory fallback) was full. */
  droppedLines(): number {
    return this.stats.droppedLines + (this.spool.isClosed() ? 0 : this.spool.overflow());
  }

  /** Lines the database refused as invalid (HTTP 400/422) and that were therefore not retried. */
  rejectedLines(): number {
    return this.stats.rejectedLines;
  }

  /**
   * Stops the shipper without waiting for the database: what is not yet acknowledged stays in
   * the spool for the next start (a request still in flight is simply sent again then).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.spoolBacklog();
    this.closed = true;
    this.cancelTimer();
    this.writeApi.dispose();
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w.reject(new Error('influx sink closed before the spool drained'));
    this.stats.droppedLines += this.unspooled.length;
    this.unspooled = [];
    this.spool.close();
  }

  // --- write side ------------------------------------------------------------------------------

  private accept(toLines: () => string[]): void {
    try {
      const lines = toLines();
      if (lines.length === 0) return;
      if (this.closed) {
        this.stats.droppedLines += lines.length;
        return;
      }
      if (this.unspooled.length > 0) {
        this.holdInMemory(lines);
        this.spoolBacklog();
      } else {
        this.spool.append(lines, this.clock.now());
        this.spoolError = null;
      }
      this.scheduleForSize();
    } catch (err) {
      // write* never throws: the pipeline must go on (ports.ts, TimeSeriesSink).
      this.reportSpoolError(err as Error);
    }
  }

  private reportSpoolError(err: Error): void {
    this.spoolError = err;
    this.onError(err);
  }

  /** Keeps lines the spool refused, bounded; dropping the oldest is counted. */
  private holdInMemory(lines: readonly string[]): void {
    if (this.unspooled.length === 0) this.unspooledSince = this.clock.now();
    for (const line of lines) this.unspooled.push(line);
    const over = this.unspooled.length - MAX_UNSPOOLED_LINES;
    if (over > 0) {
      this.unspooled.splice(0, over);
      this.stats.droppedLines += over;
    }
  }

  /** Moves lines held in memory to the spool, in order, once it accepts writes again. */
  private spoolBacklog(): void {
    if (this.unspooled.length === 0 || this.closed) return;
    try {
      this.spool.append(this.unspooled, this.unspooledSince);
      this.unspooled = [];
      this.spoolError = null;
    } catch (err) {
      this.reportSpoolError(err as Error);
    }
  }

  // --- shipper ---------------------------------------------------------------------------------

  /** After an append: send now when a full batch waits, else when the oldest line is due. */
  private scheduleForSize(): void {
    if (this.failures > 0) return; // the backoff timer decides
    const size = this.spoolSize();
    if (size === 0) return;
    if (size >= this.requestLines) return this.schedule(0);
    // A send is already due (or running): it will not be later than this line's deadline.
    if (this.timer !== undefined || this.inFlight) return;
    const age = this.spool.oldestAgeMs(this.clock.now());
    this.schedule(Math.max(0, this.flushIntervalMs - age));
  }

  private schedule(delayMs: number): void {
    if (this.closed || this.inFlight) return; // the running send schedules the next step
    const due = this.clock.now() + delayMs;
    if (this.timer !== undefined) {
      if (this.timerDue <= due) return;
      this.cancelTimer();
    }
    this.timerDue = due;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.inFlight = this.shipOnce().finally(() => {
        this.inFlight = null;
        this.afterSend();
      });
    }, delayMs);
  }

  private cancelTimer(): void {
    if (this.timer === undefined) return;
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Sends the oldest spooled batch once. Never rejects. */
  private async shipOnce(): Promise<void> {
    this.spoolBacklog();
    if (this.closed) return;
    const batch = this.spool.peek(this.requestLines);
    const last = batch[batch.length - 1];
    if (!last) return;
    const lines = batch.map((b) => b.line);
    try {
      this.stats.requests += 1;
      this.writeApi.writeRecords(lines);
      await this.writeApi.flush();
    } catch (err) {
      if (this.closed) return;
      this.onSendFailure(err as Error, lines.length, last.id);
      return;
    }
    if (this.closed) return; // acknowledged after close: sent again next start, overwriting itself
    this.spool.ack(last.id);
    this.stats.linesSent += lines.length;
    this.failures = 0;
    this.downSince = null;
    this.lastSendError = null;
    if (this.requestLines < this.batchSize) this.requestLines = Math.min(this.batchSize, this.requestLines * 2);
  }

  private onSendFailure(err: Error, count: number, lastId: number): void {
    const status = err instanceof HttpError ? err.statusCode : 0;
    if (status === 413 && count > 1) {
      // Too large for the server: retry the same lines in smaller requests.
      this.requestLines = Math.max(1, Math.floor(count / 2));
      return;
    }
    if (status === 400 || status === 422 || status === 413) {
      // The database refused the data itself (bad line, field type conflict). InfluxDB writes
      // the valid points of a partial write; resending cannot fix the rest, so they are dropped
      // and counted instead of blocking every later line behind them.
      this.spool.ack(lastId);
      this.stats.rejectedLines += count;
      this.onError(new Error(`influx refused ${count} lines (HTTP ${status}): ${err.message}`, { cause: err }));
      return;
    }
    // Unreachable, 5xx, 429, or 401/403/404 (token, org or bucket wrong): keep the lines, retry.
    this.failures += 1;
    this.downSince ??= this.clock.now();
    this.lastSendError = err;
    this.onError(err);
  }

  private afterSend(): void {
    if (this.closed) return;
    if (this.isDrained()) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w.resolve();
      return;
    }
    if (this.failures > 0) return this.schedule(this.backoffMs());
    const size = this.spoolSize();
    const due = this.drainWaiters.length > 0 || size >= this.requestLines;
    if (due) return this.schedule(0);
    const age = this.spool.oldestAgeMs(this.clock.now());
    this.schedule(Math.max(0, this.flushIntervalMs - age));
  }

  private backoffMs(): number {
    const base = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** Math.min(30, this.failures - 1));
    if (this.jitter === 0) return base;
    // Spread many gateways' retries after a shared outage.
    const spread = base * this.jitter * (2 * Math.random() - 1);
    return Math.max(this.minDelayMs, Math.min(this.maxDelayMs, Math.round(base + spread)));
  }

  private spoolSize(): number {
    return this.spool.isClosed() ? 0 : this.spool.size();
  }

  private isDrained(): boolean {
    return this.spoolSize() === 0 && this.unspooled.length === 0;
  }
}

function describe(err: Error): string {
  if (err instanceof HttpError) return `HTTP ${err.statusCode}: ${err.message}`;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`InfluxSink: ${name} must be a positive integer, got ${value}`);
  return value;
}

function nonNegative(value: number, name: string): number {
  if (!(value >= 0) || !Number.isFinite(value)) throw new Error(`InfluxSink: ${name} must be a non-negative number, got ${value}`);
  return value;
}
