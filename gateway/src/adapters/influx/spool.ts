/**
 * A durable FIFO of line-protocol lines: the InfluxDB sink's write-ahead log. Lines are appended
 * before any send is tried and deleted only after the database acknowledged them, so an outage or
 * a restart loses nothing and replay keeps the original order and timestamps.
 *
 * A separate SQLite file (WAL, synchronous=NORMAL: survives a process crash; the last commits may
 * be lost on power failure), so the spool can be deleted or inspected without touching the
 * registry. Bounded by `maxLines`: past it the oldest lines are dropped and counted.
 */
import type { Statement } from 'better-sqlite3';
import { applyMigrations, openSqliteFile, type Database, type Migration } from '../sqlite/database.js';

export interface SpooledLine {
  readonly id: number;
  readonly line: string;
}

export interface DiskSpoolOptions {
  /** Most lines kept (default 5,000,000, about 1 GB at typical line sizes). */
  maxLines?: number;
}

const SPOOL_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'spool',
    // AUTOINCREMENT: ids never reused, so an ack for an old id can never delete newer lines.
    sql: `CREATE TABLE spool (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      appended_at INTEGER NOT NULL,
      line TEXT NOT NULL
    );`,
  },
];

export class DiskSpool {
  private readonly db: Database;
  private readonly maxLines: number;
  private count: number;
  private overflowCount = 0;
  private closed = false;
  private readonly stmt: {
    insert: Statement;
    peek: Statement;
    ack: Statement;
    dropOldest: Statement;
    oldest: Statement;
    count: Statement;
  };
  private readonly appendTx: (lines: readonly string[], now: number) => void;

  constructor(
    readonly file: string,
    options: DiskSpoolOptions = {},
  ) {
    const maxLines = options.maxLines ?? 5_000_000;
    if (!Number.isInteger(maxLines) || maxLines < 1) throw new Error(`DiskSpool: maxLines must be a positive integer, got ${maxLines}`);
    this.maxLines = maxLines;
    this.db = openSqliteFile(file);
    try {
      applyMigrations(this.db, 'influx-spool', SPOOL_MIGRATIONS);
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.stmt = {
      insert: this.db.prepare('INSERT INTO spool (appended_at, line) VALUES (?, ?)'),
      peek: this.db.prepare('SELECT id, line FROM spool ORDER BY id LIMIT ?'),
      ack: this.db.prepare('DELETE FROM spool WHERE id <= ?'),
      dropOldest: this.db.prepare('DELETE FROM spool WHERE id IN (SELECT id FROM spool ORDER BY id LIMIT ?)'),
      oldest: this.db.prepare('SELECT appended_at FROM spool ORDER BY id LIMIT 1').pluck(),
      count: this.db.prepare('SELECT COUNT(*) FROM spool').pluck(),
    };
    this.count = this.stmt.count.get() as number;
    this.appendTx = this.db.transaction((lines: readonly string[], now: number) => {
      for (const line of lines) this.stmt.insert.run(now, line);
      const over = this.count + lines.length - this.maxLines;
      if (over > 0) {
        const dropped = this.stmt.dropOldest.run(over).changes;
        this.overflowCount += dropped;
        this.count -= dropped;
      }
      this.count += lines.length;
    });
  }

  /** Appends in one transaction; throws when the disk refuses (the caller keeps the lines). */
  append(lines: readonly string[], now: number = Date.now()): void {
    if (lines.length === 0) return;
    const before = { count: this.count, overflow: this.overflowCount };
    try {
      this.appendTx(lines, now);
    } catch (err) {
      // The transaction rolled back: so do the counters.
      this.count = before.count;
      this.overflowCount = before.overflow;
      throw err;
    }
  }

  /** The oldest `max` lines, oldest first, with the ids to ack them by. */
  peek(max: number): SpooledLine[] {
    return this.stmt.peek.all(Math.max(1, Math.floor(max))) as SpooledLine[];
  }

  /** Deletes every line with an id up to and including `upToId`. */
  ack(upToId: number): number {
    const removed = this.stmt.ack.run(upToId).changes;
    this.count -= removed;
    return removed;
  }

  size(): number {
    return this.count;
  }

  /** Age of the oldest spooled line, ms (0 when empty). */
  oldestAgeMs(now: number): number {
    const at = this.stmt.oldest.get() as number | undefined;
    return at === undefined ? 0 : Math.max(0, now - at);
  }

  /** Lines dropped (oldest first) because the spool was full, since it was opened. */
  overflow(): number {
    return this.overflowCount;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  isClosed(): boolean {
    return this.closed;
  }
}
