/**
 * The durable notification outbox. `enqueue` writes the requests to SQLite in one transaction and
 * returns; a delivery worker sends them in the background, so an alert is never held up by a slow
 * robot or SMTP server, and a restart resumes whatever was still pending.
 *
 * Per notification: the person's channels are tried in order. A retryable failure is retried on
 * the same channel with exponential backoff and jitter (2 s, 4 s, 8 s… capped at 5 min) up to
 * `maxAttemptsPerChannel`; a permanent failure, or running out of attempts, falls back to the next
 * channel; when every channel has failed the notification is 'failed' with its last error. Every
 * attempt is recorded (channel, masked target, outcome, provider code, time).
 *
 * Delivery is at least once: a crash between a provider accepting a message and the outcome being
 * committed sends it again after the restart.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, NotificationOutbox, NotificationReceipt, NotificationRequest } from '../../ports.js';
import { CHANNEL_TYPES, type NotificationChannel, type NotificationChannelType } from '../../domain/site.js';
import { applyMigrations, type Database, type Migration } from '../sqlite/database.js';
import { composeQueuedDigest } from './compose.js';
import { DestinationBudgets, type RateLimit } from './rate-limit.js';
import { maskTarget } from './targets.js';
import { permanent, silentLogger, type ChannelSender, type NotifyLogger, type OutgoingMessage, type SendResult } from './types.js';

export const OUTBOX_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'notification outbox',
    sql: `
      CREATE TABLE notifications (
        id TEXT PRIMARY KEY,
        dedup_key TEXT NOT NULL UNIQUE,
        alert_id TEXT,
        person_id TEXT NOT NULL,
        person_name TEXT NOT NULL,
        channels TEXT NOT NULL,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        markdown TEXT,
        ack_url TEXT,
        life_safety INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        channel_index INTEGER NOT NULL DEFAULT 0,
        channel_attempts INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        sent_at INTEGER,
        sent_channel TEXT,
        last_error TEXT,
        digest_id TEXT
      );
      CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';
      CREATE INDEX notifications_by_alert ON notifications (alert_id, created_at);
      CREATE INDEX notifications_by_person ON notifications (person_id, created_at);
      CREATE TABLE notification_attempts (
        id INTEGER PRIMARY KEY,
        notification_id TEXT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        channel TEXT NOT NULL,
        target TEXT NOT NULL,
        outcome TEXT NOT NULL,
        code TEXT,
        error TEXT,
        digest_id TEXT,
        digest_size INTEGER NOT NULL DEFAULT 1
      );
      CREATE INDEX notification_attempts_by_notification ON notification_attempts (notification_id, id);
    `,
  },
];

/** The timer functions the worker uses for waits, injectable so tests run on fake time. */
export interface OutboxTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface RetryPolicy {
  /** First retry delay (default 2 s); doubles per attempt. */
  readonly baseDelayMs: number;
  /** Cap on one delay (default 5 min). */
  readonly maxDelayMs: number;
  /** Attempts on one channel before falling back to the next (default 4). */
  readonly maxAttemptsPerChannel: number;
  /** ± fraction of the delay drawn at random so robots are not hit in lockstep (default 0.2). */
  readonly jitter: number;
}

export interface DigestPolicy {
  /** Merge when more than this many non-life-safety notifications wait for one destination (default 5). */
  readonly threshold: number;
  /** At most this many in one digest (default 20); the rest go into the next one. */
  readonly maxItems: number;
}

export interface SqliteOutboxOptions {
  readonly senders: readonly ChannelSender[];
  readonly clock: Clock;
  readonly timers?: OutboxTimers;
  /** Jitter source, [0, 1). */
  readonly random?: () => number;
  readonly log?: NotifyLogger;
  readonly retry?: Partial<RetryPolicy>;
  /** Per channel type; null = unlimited. Defaults: WeCom/DingTalk 20/min, webhook 60/min. */
  readonly rateLimits?: Partial<Record<NotificationChannelType, RateLimit | null>>;
  /** null turns digests off. */
  readonly digest?: Partial<DigestPolicy> | null;
  /** Rows looked at per pass (default 200). */
  readonly batchSize?: number;
}

export type AttemptOutcome = 'sent' | 'retry' | 'fallback' | 'failed';

/** One delivery attempt, as recorded. */
export interface NotificationAttempt {
  readonly notificationId: string;
  readonly at: number;
  readonly channel: NotificationChannelType;
  /** Masked: never a full robot key, token, mailbox or phone number. */
  readonly target: string;
  /** sent; retry (same channel later); fallback (next channel); failed (no channel left). */
  readonly outcome: AttemptOutcome;
  /** Provider's answer code (errcode, SMTP reply, HTTP status, Alibaba Code). */
  readonly code: string | null;
  readonly error: string | null;
  /** Set when the attempt carried a digest of several notifications. */
  readonly digestId: string | null;
  readonly digestSize: number;
}

export interface OutboxCounts {
  readonly pending: number;
  readonly sent: number;
  readonly failed: number;
  /** Notifications that failed on every channel since this outbox was created. */
  readonly failedSinceStart: number;
  readonly inFlight: number;
}

interface Row {
  id: string;
  dedup_key: string;
  alert_id: string | null;
  person_id: string;
  person_name: string;
  channels: string;
  title: string;
  text: string;
  markdown: string | null;
  ack_url: string | null;
  life_safety: number;
  status: 'pending' | 'sent' | 'failed';
  channel_index: number;
  channel_attempts: number;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  sent_at: number | null;
  sent_channel: NotificationChannelType | null;
  last_error: string | null;
}

interface AttemptRow {
  notification_id: string;
  at: number;
  channel: NotificationChannelType;
  target: string;
  outcome: AttemptOutcome;
  code: string | null;
  error: string | null;
  digest_id: string | null;
  digest_size: number;
}

const realTimers: OutboxTimers = {
  // unref: a pending retry must not keep a stopping process alive (stop() clears it anyway).
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

const MAX_ERROR = 500;

export class SqliteOutbox implements NotificationOutbox {
  private readonly senders: ReadonlyMap<NotificationChannelType, ChannelSender>;
  private readonly clock: Clock;
  private readonly timers: OutboxTimers;
  private readonly random: () => number;
  private readonly log: NotifyLogger;
  private readonly retry: RetryPolicy;
  private readonly digest: DigestPolicy | null;
  private readonly batchSize: number;
  private readonly budgets: DestinationBudgets;
  private readonly stmt;

  private running = false;
  private timer: unknown = null;
  private kickScheduled = false;
  private readonly inFlight = new Set<string>();
  /** Destinations with a non-life-safety send in flight: one at a time keeps their order. */
  private readonly busy = new Set<string>();
  private readonly sends = new Set<Promise<void>>();
  private failedCount = 0;

  constructor(
    private readonly db: Database,
    options: SqliteOutboxOptions,
  ) {
    applyMigrations(db, 'notify', OUTBOX_MIGRATIONS);
    this.senders = new Map(options.senders.map((s) => [s.type, s]));
    this.clock = options.clock;
    this.timers = options.timers ?? realTimers;
    this.random = options.random ?? Math.random;
    this.log = options.log ?? silentLogger;
    this.retry = {
      baseDelayMs: options.retry?.baseDelayMs ?? 2_000,
      maxDelayMs: options.retry?.maxDelayMs ?? 300_000,
      maxAttemptsPerChannel: options.retry?.maxAttemptsPerChannel ?? 4,
      jitter: options.retry?.jitter ?? 0.2,
    };
    if (!(this.retry.maxAttemptsPerChannel >= 1)) throw new Error('retry.maxAttemptsPerChannel must be at least 1');
    if (!(this.retry.jitter >= 0 && this.retry.jitter < 1)) throw new Error('retry.jitter must be in [0, 1)');
    this.digest =
      options.digest === null
        ? null
        : { threshold: options.digest?.threshold ?? 5, maxItems: Math.max(2, options.digest?.maxItems ?? 20) };
    this.batchSize = options.batchSize ?? 200;
    this.budgets = new DestinationBudgets(options.rateLimits);
    this.stmt = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO notifications (id, dedup_key, alert_id, person_id, person_name, channels, title, text, markdown,
           ack_url, life_safety, status, next_attempt_at, created_at, last_error)
         VALUES (@id, @dedupKey, @alertId, @personId, @personName, @channels, @title, @text, @markdown,
           @ackUrl, @lifeSafety, @status, @now, @now, @lastError)`,
      ),
      due: db.prepare(
        `SELECT * FROM notifications WHERE status = 'pending' AND next_attempt_at <= ?
         ORDER BY life_safety DESC, next_attempt_at, created_at LIMIT ?`,
      ),
      nextDue: db.prepare(`SELECT MIN(next_attempt_at) FROM notifications WHERE status = 'pending' AND next_attempt_at > ?`).pluck(),
      update: db.prepare(
        `UPDATE notifications SET status = @status, channel_index = @channelIndex, channel_attempts = @channelAttempts,
           attempts = attempts + 1, next_attempt_at = @nextAttemptAt, sent_at = @sentAt, sent_channel = @sentChannel,
           last_error = @lastError, digest_id = @digestId
         WHERE id = @id`,
      ),
      attempt: db.prepare(
        `INSERT INTO notification_attempts (notification_id, at, channel, target, outcome, code, error, digest_id, digest_size)
         VALUES (@notificationId, @at, @channel, @target, @outcome, @code, @error, @digestId, @digestSize)`,
      ),
      counts: db.prepare(`SELECT status, COUNT(*) AS n FROM notifications GROUP BY status`),
      prune: db.prepare(`DELETE FROM notifications WHERE status != 'pending' AND created_at < ?`),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // The port

  /**
   * Persists every valid request in one transaction, then wakes the worker. A request whose
   * dedupKey is already stored is ignored (the first one wins). An invalid request is logged and
   * skipped: it must not cost the others in the batch their notification.
   */
  enqueue(requests: readonly NotificationRequest[]): void {
    const now = this.clock.now();
    const rows: Record<string, unknown>[] = [];
    for (const request of requests) {
      const problem = validateRequest(request);
      if (problem) {
        this.log.error({ dedupKey: safeString(request?.dedupKey), problem }, 'notification request refused');
        continue;
      }
      const channels = request.channels.map((c) => ({ type: c.type, target: c.target }));
      rows.push({
        id: randomUUID(),
        dedupKey: request.dedupKey,
        alertId: request.alertId,
        personId: request.personId,
        personName: request.personName,
        channels: JSON.stringify(channels),
        title: request.title,
        text: request.text,
        markdown: request.markdown,
        ackUrl: request.ackUrl,
        lifeSafety: request.lifeSafety ? 1 : 0,
        // A person without channels cannot be told: record that at once rather than queue forever.
        status: channels.length === 0 ? 'failed' : 'pending',
        lastError: channels.length === 0 ? 'person has no notification channels' : null,
        now,
      });
    }
    let inserted = 0;
    this.db.transaction(() => {
      for (const row of rows) inserted += this.stmt.insert.run(row).changes;
    })();
    for (const row of rows) {
      if (row['status'] === 'failed') {
        this.failedCount += 1;
        this.log.error({ personId: row['personId'], dedupKey: row['dedupKey'] }, 'notification failed: person has no notification channels');
      }
    }
    if (inserted > 0) this.kick();
  }

  receipts(filter: { alertId?: string; personId?: string; limit: number }): NotificationReceipt[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.alertId !== undefined) {
      where.push('alert_id = ?');
      params.push(filter.alertId);
    }
    if (filter.personId !== undefined) {
      where.push('person_id = ?');
      params.push(filter.personId);
    }
    const limit = Math.max(1, Math.min(1000, Math.floor(filter.limit) || 1));
    const rows = this.db
      .prepare(`SELECT * FROM notifications ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, rowid DESC LIMIT ?`)
      .all(...params, limit) as Row[];
    return rows.map(toReceipt);
  }

  // ---------------------------------------------------------------------------------------------
  // Beyond the port: attempts, counts, housekeeping, the worker

  /** Every recorded attempt of the matching notifications, oldest first. */
  attempts(filter: { notificationId?: string; dedupKey?: string; alertId?: string; limit?: number }): NotificationAttempt[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.notificationId !== undefined) {
      where.push('a.notification_id = ?');
      params.push(filter.notificationId);
    }
    if (filter.dedupKey !== undefined) {
      where.push('n.dedup_key = ?');
      params.push(filter.dedupKey);
    }
    if (filter.alertId !== undefined) {
      where.push('n.alert_id = ?');
      params.push(filter.alertId);
    }
    const rows = this.db
      .prepare(
        `SELECT a.* FROM notification_attempts a JOIN notifications n ON n.id = a.notification_id
         ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.id LIMIT ?`,
      )
      .all(...params, Math.max(1, Math.min(10_000, filter.limit ?? 1000))) as AttemptRow[];
    return rows.map((r) => ({
      notificationId: r.notification_id,
      at: r.at,
      channel: r.channel,
      target: r.target,
      outcome: r.outcome,
      code: r.code,
      error: r.error,
      digestId: r.digest_id,
      digestSize: r.digest_size,
    }));
  }

  counts(): OutboxCounts {
    const byStatus = new Map((this.stmt.counts.all() as { status: string; n: number }[]).map((r) => [r.status, r.n]));
    return {
      pending: byStatus.get('pending') ?? 0,
      sent: byStatus.get('sent') ?? 0,
      failed: byStatus.get('failed') ?? 0,
      failedSinceStart: this.failedCount,
      inFlight: this.inFlight.size,
    };
  }

  /** Deletes finished notifications (and their attempts) created before `before`; returns how many. */
  prune(before: number): number {
    return this.stmt.prune.run(before).changes;
  }

  /** Starts delivering (pending rows from before a restart included). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.kick();
  }

  /** Stops taking new work and waits for sends in flight to be recorded. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== null) {
      this.timers.clearTimeout(this.timer);
      this.timer = null;
    }
    await this.idle();
  }

  /** Resolves once no send is in flight and no pass is scheduled to run now (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.sends.size > 0 || this.kickScheduled) {
      if (this.sends.size > 0) await Promise.allSettled([...this.sends]);
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Schedules a pass on the next turn of the event loop (not a timer: nothing is waited for). */
  private kick(): void {
    if (!this.running || this.kickScheduled) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      this.pumpSafely();
    });
  }

  /** A pass runs from the event loop: an error in it must not crash the gateway; retry soon instead. */
  private pumpSafely(): void {
    try {
      this.pump();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'notification outbox: delivery pass failed');
      this.arm(this.clock.now() + 1_000);
    }
  }

  /** One pass: start every send that is due and allowed, then sleep until the next one is. */
  private pump(): void {
    if (!this.running) return;
    if (this.timer !== null) {
      this.timers.clearTimeout(this.timer);
      this.timer = null;
    }
    const now = this.clock.now();
    let wakeAt = Number.POSITIVE_INFINITY;
    let rows: Row[];
    try {
      rows = (this.stmt.due.all(now, this.batchSize + this.inFlight.size) as Row[]).filter((r) => !this.inFlight.has(r.id));
    } catch (err) {
      // SQLITE_BUSY and friends: try again shortly rather than stop delivering.
      this.log.error({ err: (err as Error).message }, 'notification outbox: reading due rows failed');
      this.arm(now + 1_000);
      return;
    }
    const waiting = new Map<string, { channel: NotificationChannel; rows: Row[] }>();
    for (const row of rows) {
      const channel = parseChannels(row.channels)[row.channel_index];
      if (!channel) {
        this.record([row], null, permanent('no_channel', 'no notification channel left'), null, now);
        continue;
      }
      const destination = `${channel.type} ${channel.target}`;
      if (row.life_safety) {
        // Alarm-class: no budget wait, no digest, no queueing behind a slower message.
        this.budgets.take(channel.type, channel.target, now, true);
        this.dispatch([row], channel, null);
        continue;
      }
      const group = waiting.get(destination) ?? { channel, rows: [] };
      group.rows.push(row);
      waiting.set(destination, group);
    }
    for (const [destination, { channel, rows: group }] of waiting) {
      if (this.busy.has(destination)) continue; // picked up again when that send completes
      if (!this.budgets.take(channel.type, channel.target, now)) {
        wakeAt = Math.min(wakeAt, this.budgets.nextTokenAt(channel.type, channel.target, now));
        continue;
      }
      if (this.digest && group.length > this.digest.threshold) this.dispatch(group.slice(0, this.digest.maxItems), channel, randomUUID());
      else this.dispatch([group[0] as Row], channel, null);
    }
    let nextDue: number | null = null;
    try {
      nextDue = this.stmt.nextDue.get(now) as number | null;
    } catch {
      nextDue = now + 1_000;
    }
    if (nextDue !== null) wakeAt = Math.min(wakeAt, nextDue);
    this.arm(wakeAt);
  }

  private arm(at: number): void {
    if (!this.running || !Number.isFinite(at)) return;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(
      () => {
        this.timer = null;
        this.pumpSafely();
      },
      Math.max(0, at - this.clock.now()),
    );
  }

  private dispatch(rows: readonly Row[], channel: NotificationChannel, digestId: string | null): void {
    const lifeSafety = rows.some((r) => r.life_safety === 1);
    const destination = `${channel.type} ${channel.target}`;
    for (const row of rows) this.inFlight.add(row.id);
    if (!lifeSafety) this.busy.add(destination);
    const message = digestId ? digestMessage(digestId, rows) : singleMessage(rows[0] as Row);
    const sender = this.senders.get(channel.type);
    const send = async (): Promise<void> => {
      let result: SendResult;
      if (!sender) result = permanent('no_sender', `no sender configured for channel '${channel.type}'`);
      else {
        try {
          result = await sender.send(message, channel.target);
        } catch (err) {
          // Senders must not throw; one that does is treated as a transient fault.
          result = { ok: false, retryable: true, code: 'sender_error', error: (err as Error).message };
        }
      }
      try {
        this.record(rows, channel, result, digestId, this.clock.now());
      } catch (err) {
        // Not recorded: the rows stay pending and are sent again (at least once).
        this.log.error({ err: (err as Error).message }, 'notification outbox: recording an attempt failed');
      }
    };
    const promise = send().finally(() => {
      for (const row of rows) this.inFlight.delete(row.id);
      if (!lifeSafety) this.busy.delete(destination);
      this.sends.delete(promise);
      this.kick();
    });
    this.sends.add(promise);
  }

  /** Applies one attempt's outcome to each notification it carried, in one transaction. */
  private record(rows: readonly Row[], channel: NotificationChannel | null, result: SendResult, digestId: string | null, now: number): void {
    const failedNow: Row[] = [];
    this.db.transaction(() => {
      for (const row of rows) {
        const channels = parseChannels(row.channels);
        const channelAttempts = row.channel_attempts + 1;
        let update: Record<string, unknown>;
        let outcome: AttemptOutcome;
        if (result.ok) {
          outcome = 'sent';
          update = { status: 'sent', channelIndex: row.channel_index, channelAttempts, nextAttemptAt: row.next_attempt_at, sentAt: now, sentChannel: channel?.type ?? null, lastError: null };
        } else if (result.retryable && channelAttempts < this.retry.maxAttemptsPerChannel) {
          outcome = 'retry';
          update = { status: 'pending', channelIndex: row.channel_index, channelAttempts, nextAttemptAt: now + this.backoff(channelAttempts, result.retryAfterMs), sentAt: null, sentChannel: null, lastError: result.error };
        } else if (row.channel_index + 1 < channels.length) {
          outcome = 'fallback';
          update = { status: 'pending', channelIndex: row.channel_index + 1, channelAttempts: 0, nextAttemptAt: now, sentAt: null, sentChannel: null, lastError: result.error };
        } else {
          outcome = 'failed';
          update = { status: 'failed', channelIndex: row.channel_index, channelAttempts, nextAttemptAt: row.next_attempt_at, sentAt: null, sentChannel: null, lastError: result.error };
          failedNow.push(row);
        }
        this.stmt.update.run({ ...update, digestId, id: row.id });
        if (channel) {
          this.stmt.attempt.run({
            notificationId: row.id,
            at: now,
            channel: channel.type,
            target: maskTarget(channel.type, channel.target),
            outcome,
            code: result.code,
            error: result.ok ? null : result.error.slice(0, MAX_ERROR),
            digestId,
            digestSize: rows.length,
          });
        }
        if (outcome === 'fallback' || outcome === 'retry') {
          this.log.warn(
            { notificationId: row.id, channel: channel?.type, target: channel ? maskTarget(channel.type, channel.target) : null, code: result.code, outcome },
            outcome === 'retry' ? 'notification attempt failed, will retry' : 'notification channel failed, falling back to the next',
          );
        }
      }
    })();
    for (const row of failedNow) {
      this.failedCount += 1;
      this.log.error(
        { notificationId: row.id, dedupKey: row.dedup_key, alertId: row.alert_id, personId: row.person_id, error: result.ok ? null : result.error },
        'notification failed on every channel',
      );
    }
  }

  /** base·2^(n−1), capped, ± jitter; a provider's Retry-After is honoured up to the cap. */
  private backoff(attempt: number, retryAfterMs: number | undefined): number {
    const exponential = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    const jittered = exponential * (1 - this.retry.jitter + 2 * this.retry.jitter * this.random());
    return Math.round(Math.min(this.retry.maxDelayMs, Math.max(jittered, retryAfterMs ?? 0)));
  }
}

function singleMessage(row: Row): OutgoingMessage {
  return {
    id: row.id,
    alertId: row.alert_id,
    personId: row.person_id,
    personName: row.person_name,
    title: row.title,
    text: row.text,
    markdown: row.markdown,
    ackUrl: row.ack_url,
    lifeSafety: row.life_safety === 1,
    digestOf: [],
  };
}

function digestMessage(digestId: string, rows: readonly Row[]): OutgoingMessage {
  const first = rows[0] as Row;
  const composed = composeQueuedDigest(rows.map((r) => ({ title: r.title, ackUrl: r.ack_url })));
  return {
    id: digestId,
    alertId: null,
    personId: first.person_id,
    personName: first.person_name,
    ...composed,
    ackUrl: null,
    lifeSafety: false,
    digestOf: rows.map((r) => r.alert_id).filter((id): id is string => id !== null),
  };
}

function parseChannels(json: string): NotificationChannel[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? (value as NotificationChannel[]) : [];
  } catch {
    return [];
  }
}

function toReceipt(row: Row): NotificationReceipt {
  const channels = parseChannels(row.channels);
  const current = channels[Math.min(row.channel_index, channels.length - 1)];
  return {
    id: row.id,
    dedupKey: row.dedup_key,
    alertId: row.alert_id,
    personId: row.person_id,
    channel: row.sent_channel ?? current?.type ?? null,
    status: row.status,
    attempts: row.attempts,
    createdAt: row.created_at,
    sentAt: row.sent_at,
    lastError: row.last_error,
  };
}

function safeString(value: unknown): string | null {
  return typeof value === 'string' ? value.slice(0, 200) : null;
}

const CHANNEL_TYPE_SET: ReadonlySet<string> = new Set(CHANNEL_TYPES);

/** The first problem with a request, or null. */
export function validateRequest(request: NotificationRequest): string | null {
  if (request === null || typeof request !== 'object') return 'request is not an object';
  if (typeof request.dedupKey !== 'string' || request.dedupKey === '') return 'dedupKey must be a non-empty string';
  if (typeof request.personId !== 'string' || request.personId === '') return 'personId must be a non-empty string';
  if (typeof request.personName !== 'string') return 'personName must be a string';
  if (request.alertId !== null && typeof request.alertId !== 'string') return 'alertId must be a string or null';
  if (typeof request.title !== 'string' || typeof request.text !== 'string') return 'title and text must be strings';
  if (request.markdown !== null && typeof request.markdown !== 'string') return 'markdown must be a string or null';
  if (request.ackUrl !== null && typeof request.ackUrl !== 'string') return 'ackUrl must be a string or null';
  if (!Array.isArray(request.channels)) return 'channels must be an array';
  for (const channel of request.channels) {
    if (!channel || !CHANNEL_TYPE_SET.has(channel.type)) return `unknown channel type '${String(channel?.type)}'`;
    if (typeof channel.target !== 'string' || channel.target === '') return `channel '${channel.type}' has no target`;
  }
  return null;
}
