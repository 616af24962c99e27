/**
 * Dead letters: messages the pipeline refused, kept for diagnosis with their reason code.
 *
 * Bounded: the newest `capacity` entries are visible; older ones are evicted and counted. The
 * physical delete runs once the table has `evictBatch` entries past capacity, not on every
 * insert, so a flood of bad messages costs one insert each plus an occasional range delete.
 */
import type { DeadLetter, DeadLetterQuery, DeadLetterStore } from '../../ports.js';
import type { RejectionReason } from '../../domain/rejection.js';
import type { Database } from './database.js';

export interface SqliteDeadLetterStoreOptions {
  /** Newest entries kept (default 10,000). */
  capacity?: number;
  /** Bytes of each payload kept (default 16 KiB); longer payloads are cut and flagged. */
  maxPayloadBytes?: number;
}

interface Row {
  id: number;
  received_at: number;
  topic: string;
  device_id: string | null;
  reason: RejectionReason;
  detail: string;
  size: number;
  payload: string;
  encoding: 'utf8' | 'base64';
  truncated: number;
}

/** Decodes only valid UTF-8: a payload that is not stays bytes (base64), never U+FFFD soup. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Longest topic and detail kept; both come from outside and must not grow the table unbounded. */
const MAX_TOPIC = 1024;
const MAX_DETAIL = 2048;

export class SqliteDeadLetterStore implements DeadLetterStore {
  private readonly capacity: number;
  private readonly maxPayloadBytes: number;
  private readonly evictBatch: number;
  private stored: number;
  private evictedCount = 0;
  private readonly stmt;

  constructor(db: Database, options: SqliteDeadLetterStoreOptions = {}) {
    this.capacity = positiveInt(options.capacity ?? 10_000, 'capacity');
    this.maxPayloadBytes = positiveInt(options.maxPayloadBytes ?? 16_384, 'maxPayloadBytes');
    this.evictBatch = Math.max(1, Math.min(1000, Math.ceil(this.capacity / 10)));
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO dead_letters (received_at, topic, device_id, reason, detail, size, payload, encoding, truncated)
         VALUES (@receivedAt, @topic, @deviceId, @reason, @detail, @size, @payload, @encoding, @truncated)`,
      ),
      count: db.prepare('SELECT COUNT(*) FROM dead_letters').pluck(),
      // The id below which entries fall outside the newest `capacity`.
      floorId: db.prepare('SELECT id FROM dead_letters ORDER BY id DESC LIMIT 1 OFFSET ?').pluck(),
      evict: db.prepare('DELETE FROM dead_letters WHERE id <= ?'),
      list: db.prepare(
        `SELECT id, received_at, topic, device_id, reason, detail, size, payload, encoding, truncated
         FROM dead_letters
         WHERE id > @floor
           AND (@reason IS NULL OR reason = @reason)
           AND (@deviceId IS NULL OR device_id = @deviceId)
           AND (@before IS NULL OR id < @before)
         ORDER BY id DESC LIMIT @limit`,
      ),
    };
    this.stored = this.stmt.count.get() as number;
    // A capacity lowered since the last run takes effect at once.
    if (this.stored > this.capacity) this.evict();
  }

  add(entry: {
    receivedAt: number;
    topic: string;
    deviceId: string | null;
    reason: RejectionReason;
    detail: string;
    payload: Uint8Array;
  }): void {
    const { text, encoding, truncated } = this.encode(entry.payload);
    this.stmt.insert.run({
      receivedAt: entry.receivedAt,
      topic: clip(entry.topic, MAX_TOPIC),
      deviceId: entry.deviceId,
      reason: entry.reason,
      detail: clip(entry.detail, MAX_DETAIL),
      size: entry.payload.byteLength,
      payload: text,
      encoding,
      truncated: truncated ? 1 : 0,
    });
    this.stored += 1;
    if (this.stored > this.capacity) this.evictedCount += 1;
    if (this.stored >= this.capacity + this.evictBatch) this.evict();
  }

  /** Newest first; `before` pages backwards by id. */
  list(query: DeadLetterQuery): DeadLetter[] {
    const limit = Math.max(1, Math.min(Math.floor(query.limit) || 1, this.capacity));
    const rows = this.stmt.list.all({
      floor: this.floorId(),
      reason: query.reason ?? null,
      deviceId: query.deviceId ?? null,
      before: query.before ?? null,
      limit,
    }) as Row[];
    return rows.map((r) => ({
      id: r.id,
      receivedAt: r.received_at,
      topic: r.topic,
      deviceId: r.device_id,
      reason: r.reason,
      detail: r.detail,
      size: r.size,
      payload: r.payload,
      encoding: r.encoding,
      truncated: r.truncated === 1,
    }));
  }

  count(): number {
    return Math.min(this.stored, this.capacity);
  }

  /** Entries dropped to stay within capacity since this store was opened. */
  evicted(): number {
    return this.evictedCount;
  }

  private evict(): void {
    const floor = this.floorId();
    if (floor > 0) this.stored -= this.stmt.evict.run(floor).changes;
  }

  /** Highest id outside the newest `capacity` entries (0 when all fit). */
  private floorId(): number {
    if (this.stored <= this.capacity) return 0;
    return (this.stmt.floorId.get(this.capacity) as number | undefined) ?? 0;
  }

  private encode(payload: Uint8Array): { text: string; encoding: 'utf8' | 'base64'; truncated: boolean } {
    const truncated = payload.byteLength > this.maxPayloadBytes;
    let text: string;
    try {
      // Validity is judged on the whole payload; the cut then lands on a character boundary.
      strictUtf8.decode(payload);
    } catch {
      const kept = truncated ? payload.subarray(0, this.maxPayloadBytes) : payload;
      return { text: Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength).toString('base64'), encoding: 'base64', truncated };
    }
    if (!truncated) {
      text = strictUtf8.decode(payload);
    } else {
      let end = this.maxPayloadBytes;
      // Back off over continuation bytes (10xxxxxx) so no character is split (RFC 3629 §3).
      while (end > 0 && ((payload[end] ?? 0) & 0xc0) === 0x80) end -= 1;
      text = strictUtf8.decode(payload.subarray(0, end));
    }
    return { text, encoding: 'utf8', truncated };
  }
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`SqliteDeadLetterStore: ${name} must be a positive integer, got ${value}`);
  return value;
}
