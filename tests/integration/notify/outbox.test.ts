/**
 * The durable outbox end to end: SQLite files in a temp dir, the real channel senders, real
 * loopback servers playing the receivers, and fake time for every wait (backoff, budgets).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../../gateway/src/adapters/sqlite/database.js';
import {
  SmsSender,
  LogSmsProvider,
  SqliteOutbox,
  WebhookSender,
  WecomSender,
  silentLogger,
  type NotifyLogger,
  type SqliteOutboxOptions,
} from '../../../gateway/src/adapters/notify/index.js';
import type { NotificationRequest } from '../../../gateway/src/ports.js';
import type { NotificationChannel } from '../../../gateway/src/domain/site.js';
import { FakeTime } from './support/fake-time.js';
import { HttpReceiver, type Answer } from './support/servers.js';

const SECRET = 'outbox-test-secret-0123';

let dir: string;
let time: FakeTime;
let server: HttpReceiver;
/** Arrival times (fake clock) and paths of every request the receiver got. */
let arrivals: { at: number; path: string; body: string }[];
/** Per path: answers in order; the last one repeats. */
let script: Map<string, Answer[]>;
const open: { db: Database; outbox: SqliteOutbox }[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gridwatch-outbox-'));
  time = new FakeTime();
  arrivals = [];
  script = new Map();
  server = new HttpReceiver((req) => {
    arrivals.push({ at: time.now(), path: req.url.pathname, body: req.body });
    const answers = script.get(req.url.pathname);
    if (!answers) return { status: 200, json: { errcode: 0 } };
    return (answers.length > 1 ? answers.shift() : answers[0]) ?? { status: 200 };
  });
  await server.start();
});

afterEach(async () => {
  for (const { db, outbox } of open.splice(0)) {
    await outbox.stop();
    db.close();
  }
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

function makeOutbox(options: Partial<SqliteOutboxOptions> = {}): SqliteOutbox {
  const db = openDatabase(join(dir, 'gridwatch.db'));
  const outbox = new SqliteOutbox(db, {
    senders: [new WebhookSender({ secret: SECRET, clock: time }), new WecomSender(), new SmsSender(new LogSmsProvider(silentLogger))],
    clock: time,
    timers: time,
    random: () => 0.5,
    ...options,
  });
  open.push({ db, outbox });
  return outbox;
}

/** Drops an outbox and its connection, as a process exit would. */
async function drop(outbox: SqliteOutbox): Promise<void> {
  const index = open.findIndex((o) => o.outbox === outbox);
  const [entry] = open.splice(index, 1);
  await entry?.outbox.stop();
  entry?.db.close();
}

function hook(path: string): NotificationChannel {
  return { type: 'webhook', target: `${server.baseUrl}${path}` };
}

function robot(key: string): NotificationChannel {
  return { type: 'wecom', target: `${server.baseUrl}/robot?key=${key}` };
}

function request(dedupKey: string, channels: NotificationChannel[], extra: Partial<NotificationRequest> = {}): NotificationRequest {
  return {
    alertId: `alert-${dedupKey}`,
    personId: 'p-zhang',
    personName: '张伟',
    channels,
    title: `【故障】${dedupKey}`,
    text: `text of ${dedupKey}`,
    markdown: null,
    ackUrl: null,
    lifeSafety: false,
    dedupKey,
    ...extra,
  };
}

async function settle(outbox: SqliteOutbox): Promise<void> {
  await outbox.idle();
}

describe('SqliteOutbox durability', () => {
  it('persists before enqueue returns; a new outbox on the same file sends what was pending', async () => {
    const first = makeOutbox();
    first.enqueue([request('n1', [hook('/ok')], { lifeSafety: true })]);
    expect(first.receipts({ limit: 10 })).toMatchObject([{ dedupKey: 'n1', status: 'pending', attempts: 0, channel: 'webhook' }]);
    await drop(first); // never started: the process "died" right after enqueue

    const second = makeOutbox();
    second.start();
    await settle(second);
    expect(arrivals.map((a) => a.path)).toEqual(['/ok']);
    expect(second.receipts({ limit: 10 })).toMatchObject([{ dedupKey: 'n1', status: 'sent', attempts: 1, sentAt: time.now() }]);
  });

  it('resumes a retry that was scheduled before the restart at its time', async () => {
    script.set('/flaky', [{ status: 503 }, { status: 200 }]);
    const first = makeOutbox();
    first.start();
    first.enqueue([request('n1', [hook('/flaky')])]);
    await settle(first);
    expect(first.receipts({ limit: 1 })[0]).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 503' });
    await drop(first);

    const second = makeOutbox();
    second.start();
    await time.advance(1_999, () => settle(second));
    expect(arrivals).toHaveLength(1);
    await time.advance(1, () => settle(second));
    expect(arrivals).toHaveLength(2);
    expect(second.receipts({ limit: 1 })[0]).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('a dedupKey enqueued twice, even across a restart, is one notification sent once', async () => {
    const first = makeOutbox();
    first.enqueue([request('same', [hook('/ok')]), request('same', [hook('/ok')])]);
    await drop(first);
    const second = makeOutbox();
    second.enqueue([request('same', [hook('/ok')])]);
    second.start();
    await settle(second);
    second.enqueue([request('same', [hook('/ok')])]);
    await settle(second);
    expect(arrivals).toHaveLength(1);
    expect(second.receipts({ limit: 10 })).toHaveLength(1);
  });

  it('enqueue returns before anything is sent (the worker is asynchronous)', async () => {
    const outbox = makeOutbox();
    outbox.start();
    outbox.enqueue([request('n1', [hook('/ok')])]);
    expect(arrivals).toHaveLength(0);
    await settle(outbox);
    expect(arrivals).toHaveLength(1);
  });
});

describe('SqliteOutbox retries and fallback', () => {
  it('retries a retryable failure with exponential backoff (2 s, 4 s, 8 s), then falls back', async () => {
    script.set('/down', [{ status: 503 }]);
    const outbox = makeOutbox({ retry: { maxAttemptsPerChannel: 4 } });
    outbox.start();
    const t0 = time.now();
    outbox.enqueue([request('n1', [hook('/down'), hook('/ok')])]);
    await time.advance(60_000, () => settle(outbox));
    expect(arrivals.map((a) => [a.path, a.at - t0])).toEqual([
      ['/down', 0],
      ['/down', 2_000],
      ['/down', 6_000],
      ['/down', 14_000],
      ['/ok', 14_000],
    ]);
    expect(outbox.receipts({ limit: 1 })[0]).toMatchObject({ status: 'sent', attempts: 5, channel: 'webhook' });
    const attempts = outbox.attempts({ dedupKey: 'n1' });
    expect(attempts.map((a) => [a.outcome, a.code])).toEqual([
      ['retry', 'http_503'],
      ['retry', 'http_503'],
      ['retry', 'http_503'],
      ['fallback', 'http_503'],
      ['sent', '200'],
    ]);
    expect(attempts[0]?.target).toBe(`${server.baseUrl}/down`);
  });

  it('caps the delay and spreads it with jitter', async () => {
    script.set('/down', [{ status: 503 }]);
    const outbox = makeOutbox({ random: () => 0, retry: { baseDelayMs: 2_000, maxDelayMs: 5_000, maxAttemptsPerChannel: 4, jitter: 0.2 } });
    outbox.start();
    const t0 = time.now();
    outbox.enqueue([request('n1', [hook('/down')])]);
    await time.advance(60_000, () => settle(outbox));
    // random 0 → 0.8 × (2 s, 4 s, min(8 s, 5 s) = 5 s)
    expect(arrivals.map((a) => a.at - t0)).toEqual([0, 1_600, 1_600 + 3_200, 1_600 + 3_200 + 4_000]);
  });

  it('a permanent failure falls back to the next channel at once', async () => {
    script.set('/robot', [{ json: { errcode: 93000, errmsg: 'invalid webhook url' } }]);
    const outbox = makeOutbox();
    outbox.start();
    outbox.enqueue([request('n1', [robot('revoked-key-1'), hook('/ok')])]);
    await settle(outbox);
    expect(arrivals.map((a) => a.path)).toEqual(['/robot', '/ok']);
    expect(outbox.receipts({ limit: 1 })[0]).toMatchObject({ status: 'sent', channel: 'webhook', attempts: 2 });
    const [first] = outbox.attempts({ dedupKey: 'n1' });
    expect(first).toMatchObject({ channel: 'wecom', outcome: 'fallback', code: '93000' });
    expect(first?.target).not.toContain('revoked-key-1');
  });

  it('when every channel fails the notification is failed with the last error, counted and logged', async () => {
    script.set('/gone', [{ status: 410 }]);
    const errors: { obj: object; msg: string }[] = [];
    const log: NotifyLogger = { info: () => {}, warn: () => {}, error: (obj, msg) => errors.push({ obj, msg }) };
    const outbox = makeOutbox({ log });
    outbox.start();
    outbox.enqueue([request('n1', [hook('/gone'), { type: 'email', target: 'zhang@example.org' }, { type: 'sms', target: 'no-phone' }])]);
    await settle(outbox);
    const [receipt] = outbox.receipts({ alertId: 'alert-n1', limit: 5 });
    expect(receipt).toMatchObject({ status: 'failed', channel: 'sms', attempts: 3, sentAt: null });
    expect(receipt?.lastError).toMatch(/not a phone number/);
    expect(outbox.attempts({ dedupKey: 'n1' }).map((a) => [a.channel, a.outcome, a.code])).toEqual([
      ['webhook', 'fallback', 'http_410'],
      ['email', 'fallback', 'no_sender'],
      ['sms', 'failed', 'bad_target'],
    ]);
    expect(outbox.counts()).toMatchObject({ failed: 1, failedSinceStart: 1, pending: 0 });
    expect(errors.map((e) => e.msg)).toContain('notification failed on every channel');
  });

  it('a person without channels fails at once; an invalid request is refused without losing the rest', async () => {
    const errors: string[] = [];
    const outbox = makeOutbox({ log: { ...silentLogger, error: (_obj, msg) => errors.push(msg) } });
    outbox.start();
    const broken = { ...request('bad', [hook('/ok')]), dedupKey: '' };
    outbox.enqueue([request('nobody', []), broken, request('good', [hook('/ok')])]);
    await settle(outbox);
    expect(outbox.receipts({ limit: 10 }).map((r) => [r.dedupKey, r.status]).sort()).toEqual([
      ['good', 'sent'],
      ['nobody', 'failed'],
    ]);
    expect(errors).toContain('notification request refused');
  });
});

describe('SqliteOutbox budgets and digests', () => {
  it('holds lower classes over a destination budget while a life-safety request goes straight through', async () => {
    const outbox = makeOutbox({ rateLimits: { wecom: { perMinute: 3 } }, digest: null });
    outbox.start();
    const key = 'robot-key-aaaa';
    outbox.enqueue(['t1', 't2', 't3', 't4'].map((k) => request(k, [robot(key)])));
    await settle(outbox);
    expect(arrivals).toHaveLength(3);
    const sentBefore = arrivals.map((a) => (JSON.parse(a.body) as { markdown: { content: string } }).markdown.content);
    expect(sentBefore).toEqual(['text of t1', 'text of t2', 'text of t3']);

    outbox.enqueue([request('fire', [robot(key)], { lifeSafety: true, markdown: '### 【火警】' })]);
    await settle(outbox);
    expect(arrivals).toHaveLength(4);
    expect(arrivals[3]?.body).toContain('【火警】');
    expect(outbox.receipts({ limit: 10 }).find((r) => r.dedupKey === 't4')).toMatchObject({ status: 'pending', attempts: 0 });

    // 3/min = one token per 20 s; the alarm overdrew the bucket to -1, so t4 waits 40 s.
    await time.advance(39_999, () => settle(outbox));
    expect(arrivals).toHaveLength(4);
    await time.advance(1, () => settle(outbox));
    expect(arrivals).toHaveLength(5);
    expect(outbox.receipts({ limit: 10 }).every((r) => r.status === 'sent')).toBe(true);
  });

  it('budgets are per destination: another robot is not held back', async () => {
    const outbox = makeOutbox({ rateLimits: { wecom: { perMinute: 1 } }, digest: null });
    outbox.start();
    outbox.enqueue([request('a1', [robot('robot-aaaa')]), request('a2', [robot('robot-aaaa')]), request('b1', [robot('robot-bbbb')])]);
    await settle(outbox);
    expect(arrivals.map((a) => new URL(a.path, server.baseUrl).pathname)).toHaveLength(2);
    expect(outbox.receipts({ limit: 10 }).filter((r) => r.status === 'pending').map((r) => r.dedupKey)).toEqual(['a2']);
  });

  it('merges more than N waiting notifications for one destination into one digest, recorded per notification', async () => {
    const outbox = makeOutbox({ digest: { threshold: 3, maxItems: 20 } });
    const keys = ['d1', 'd2', 'd3', 'd4', 'd5'];
    outbox.enqueue(keys.map((k) => request(k, [robot('robot-digest')])));
    outbox.enqueue([request('alarm', [robot('robot-digest')], { lifeSafety: true })]);
    outbox.start();
    await settle(outbox);
    expect(arrivals).toHaveLength(2);
    const contents = arrivals.map((a) => (JSON.parse(a.body) as { markdown: { content: string } }).markdown.content);
    expect(contents[0]).toBe('text of alarm'); // life-safety first and never merged
    expect(contents[1]).toContain('5 条通知');
    for (const k of keys) expect(contents[1]).toContain(`【故障】${k}`);

    const receipts = outbox.receipts({ limit: 10 });
    expect(receipts.every((r) => r.status === 'sent')).toBe(true);
    const digestAttempts = keys.flatMap((k) => outbox.attempts({ dedupKey: k }));
    expect(digestAttempts).toHaveLength(5);
    expect(new Set(digestAttempts.map((a) => a.digestId)).size).toBe(1);
    expect(digestAttempts.every((a) => a.digestSize === 5 && a.digestId !== null)).toBe(true);
    expect(outbox.attempts({ dedupKey: 'alarm' })[0]).toMatchObject({ digestId: null, digestSize: 1 });
  });

  it('sends one by one while no more than N wait', async () => {
    const outbox = makeOutbox({ digest: { threshold: 3 } });
    outbox.start();
    outbox.enqueue(['s1', 's2', 's3'].map((k) => request(k, [robot('robot-few')])));
    await settle(outbox);
    expect(arrivals).toHaveLength(3);
    expect(outbox.attempts({}).every((a) => a.digestId === null)).toBe(true);
  });
});

describe('SqliteOutbox lifecycle', () => {
  it('stop() leaves later rows pending and start() picks them up', async () => {
    const outbox = makeOutbox();
    outbox.start();
    await outbox.stop();
    outbox.enqueue([request('n1', [hook('/ok')])]);
    await settle(outbox);
    expect(arrivals).toHaveLength(0);
    outbox.start();
    await settle(outbox);
    expect(arrivals).toHaveLength(1);
    expect(time.nextTimerAt()).toBeNull();
  });

  it('prune() removes finished notifications and their attempts, never pending ones', async () => {
    script.set('/down', [{ status: 503 }]);
    const outbox = makeOutbox();
    outbox.start();
    outbox.enqueue([request('done', [hook('/ok')]), request('waiting', [hook('/down')])]);
    await settle(outbox);
    expect(outbox.prune(time.now() + 1)).toBe(1);
    expect(outbox.receipts({ limit: 10 }).map((r) => r.dedupKey)).toEqual(['waiting']);
    expect(outbox.attempts({ dedupKey: 'done' })).toHaveLength(0);
  });
});
