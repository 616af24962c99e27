/**
 * InfluxSink against a real HTTP server on loopback that plays InfluxDB's /api/v2/write: it
 * answers from a script (503 while "down", 204 when up, 400/413 for refusals, or drops the
 * connection to lose a response). Time is driven by ManualTimers: no sleeps.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InfluxSink, type InfluxSinkOptions } from '../../../gateway/src/adapters/influx/influx-sink.js';
import { ManualTimers, event, reading, tempDir, type TempDir } from '../../unit/storage/support/fixtures.js';

type Answer = number | 'drop-after-read';

interface WriteRequest {
  readonly url: string;
  readonly authorization: string | undefined;
  readonly lines: string[];
  readonly answer: Answer;
}

class FakeInflux {
  readonly requests: WriteRequest[] = [];
  /** Answers for the next requests, in order; 204 once the script is used up. */
  script: Answer[] = [];
  private server: Server | null = null;

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Lines in requests answered 2xx, in arrival order. */
  accepted(): string[] {
    return this.requests.filter((r) => typeof r.answer === 'number' && r.answer < 300).flatMap((r) => r.lines);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    const answer = this.script.shift() ?? 204;
    this.requests.push({
      url: req.url ?? '',
      authorization: req.headers.authorization,
      lines: body.toString('utf8').split('\n').filter(Boolean),
      answer,
    });
    if (answer === 'drop-after-read') {
      // The write arrived but the response is lost (connection reset): the sink must resend.
      req.socket.destroy();
      return;
    }
    if (answer >= 300) {
      res.writeHead(answer, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: answer === 400 ? 'invalid' : 'unavailable', message: `scripted ${answer}` }));
      return;
    }
    res.writeHead(answer);
    res.end();
  }
}

describe('InfluxSink', () => {
  let dir: TempDir;
  let influx: FakeInflux;
  let url: string;
  let timers: ManualTimers;
  let errors: Error[];
  const sinks: InfluxSink[] = [];

  function open(options: Partial<InfluxSinkOptions> = {}): InfluxSink {
    const sink = new InfluxSink({
      url,
      token: 'test-token',
      org: 'grid org',
      bucket: 'gridwatch',
      spoolFile: dir.file('data/influx-spool.db'),
      batchSize: 5,
      flushIntervalMs: 1000,
      retry: { minDelayMs: 100, maxDelayMs: 800, jitter: 0 },
      clock: timers.clock,
      timers,
      onError: (err) => errors.push(err),
      ...options,
    });
    sinks.push(sink);
    return sink;
  }

  /** Runs the timers due within `ms` and waits for the request they started. */
  async function step(sink: InfluxSink, ms: number): Promise<void> {
    timers.advance(ms);
    await sink.whenIdle();
  }

  const readings = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => reading('smk-1', 1_700_000_000_000 + (from + i) * 1000, { temperature: from + i + 0.5 }, { seq: from + i }));

  beforeEach(async () => {
    dir = tempDir();
    influx = new FakeInflux();
    url = await influx.start();
    timers = new ManualTimers();
    errors = [];
  });

  afterEach(async () => {
    for (const s of sinks.splice(0)) await s.close();
    await influx.stop();
    dir.remove();
  });

  it('spools first, then sends a batch with org, bucket, ms precision and the token', async () => {
    const sink = open();
    sink.writeReadings(readings(0, 3));
    sink.writeEvents([event('smk-1', 1_700_000_000_500, 'smoke.alarm', { seq: 9 })]);
    expect(influx.requests).toHaveLength(0);
    expect(sink.health()).toMatchObject({ ok: true, pending: 4 });

    await step(sink, 999);
    expect(influx.requests).toHaveLength(0); // waiting for a fuller batch
    await step(sink, 1);
    expect(influx.requests).toHaveLength(1);
    const [req] = influx.requests;
    expect(req?.url).toBe('/api/v2/write?org=grid%20org&bucket=gridwatch&precision=ms');
    expect(req?.authorization).toBe('Token test-token');
    expect(req?.lines).toEqual([
      'smoke,building=b-1,device=smk-1,floor=3,kind=smoke temperature=0.5,seq=0i 1700000000000',
      'smoke,building=b-1,device=smk-1,floor=3,kind=smoke temperature=1.5,seq=1i 1700000001000',
      'smoke,building=b-1,device=smk-1,floor=3,kind=smoke temperature=2.5,seq=2i 1700000002000',
      'device_event,building=b-1,class=alarm,device=smk-1,floor=3,kind=smoke,type=smoke.alarm count=1i,seq=9i 1700000000500',
    ]);
    expect(sink.health()).toMatchObject({ ok: true, pending: 0, lagMs: 0 });
    expect(timers.armed()).toBe(0);
  });

  it('sends a full batch at once and splits a backlog into batches, oldest first', async () => {
    const sink = open();
    sink.writeReadings(readings(0, 12));
    await step(sink, 0);
    await step(sink, 0);
    expect(influx.requests.map((r) => r.lines.length)).toEqual([5, 5]);
    await step(sink, 1000);
    expect(influx.requests.map((r) => r.lines.length)).toEqual([5, 5, 2]);
    expect(influx.accepted()).toEqual(readings(0, 12).map((r) => expect.stringContaining(` ${r.ts}`)));
  });

  it('backs off exponentially while the database is down, then replays in order with nothing lost or sent twice', async () => {
    const sink = open();
    influx.script = [503, 503, 503, 503, 503];
    sink.writeReadings(readings(0, 3));
    await step(sink, 1000);
    expect(influx.requests).toHaveLength(1);
    const down = sink.health();
    expect(down.ok).toBe(false);
    expect(down.detail).toMatch(/^database unreachable since \d{4}-\d\d-\d\dT.* \(HTTP 503/);
    expect(down.pending).toBe(3);

    // More data arrives during the outage: it waits in the spool behind the first.
    sink.writeReadings(readings(3, 4));
    expect(influx.requests).toHaveLength(1);

    // Delays 100, 200, 400, 800: each retry neither earlier nor later than due.
    for (const delay of [100, 200, 400, 800]) {
      const before = influx.requests.length;
      expect(timers.nextIn()).toBe(delay);
      await step(sink, delay - 1);
      expect(influx.requests).toHaveLength(before);
      await step(sink, 1);
      expect(influx.requests).toHaveLength(before + 1);
    }
    expect(sink.health().lagMs).toBe(1000 + 100 + 200 + 400 + 800);
    // Every attempt resent the oldest lines first.
    for (const r of influx.requests) expect(r.lines[0]).toContain('seq=0i');

    // Capped at 800; the sixth attempt succeeds (script used up) and the backlog drains at once.
    expect(timers.nextIn()).toBe(800);
    await step(sink, 800);
    await step(sink, 0);
    const accepted = influx.accepted();
    expect(accepted).toHaveLength(7);
    expect(new Set(accepted).size).toBe(7);
    expect(accepted.map((l) => Number(l.split(' ').pop()))).toEqual(readings(0, 7).map((r) => r.ts));
    expect(sink.health()).toMatchObject({ ok: true, pending: 0 });
    expect(errors).toHaveLength(5);

    // Success resets the backoff: the next failure waits the minimum again.
    influx.script = [503];
    sink.writeReadings(readings(7, 1));
    await step(sink, 1000);
    expect(timers.nextIn()).toBe(100);
  });

  it('resends a batch whose response was lost, and never resends after a 2xx', async () => {
    const sink = open();
    influx.script = ['drop-after-read'];
    sink.writeReadings(readings(0, 2));
    await step(sink, 1000);
    expect(sink.health().ok).toBe(false);
    await step(sink, 100);
    sink.writeReadings(readings(2, 1));
    await step(sink, 1000);
    await step(sink, 1000);
    const all = influx.requests.flatMap((r) => r.lines);
    // Received three times in total for the first two lines (one lost answer), once after success.
    expect(influx.requests.map((r) => r.answer)).toEqual(['drop-after-read', 204, 204]);
    expect(all.filter((l) => l.includes('seq=0i'))).toHaveLength(2);
    expect(influx.accepted()).toHaveLength(3);
    expect(new Set(influx.accepted()).size).toBe(3);
  });

  it('keeps the spool across a restart while down and replays it with the original timestamps', async () => {
    influx.script = [503, 503];
    const first = open();
    first.writeReadings(readings(0, 4));
    await step(first, 1000);
    await step(first, 100);
    expect(first.health().pending).toBe(4);
    await first.close(); // does not wait for the database
    expect(influx.requests).toHaveLength(2);

    const second = open();
    expect(second.health().pending).toBe(4);
    await step(second, 0); // a backlog from the last run ships at once
    expect(influx.accepted().map((l) => Number(l.split(' ').pop()))).toEqual(readings(0, 4).map((r) => r.ts));
    expect(second.health()).toMatchObject({ ok: true, pending: 0 });
  });

  it('drops and counts lines the database refuses as invalid (400) instead of blocking the rest', async () => {
    const sink = open();
    influx.script = [400];
    sink.writeReadings(readings(0, 2));
    await step(sink, 1000);
    sink.writeReadings(readings(2, 1));
    await step(sink, 1000);
    expect(sink.rejectedLines()).toBe(2);
    expect(influx.accepted()).toHaveLength(1);
    expect(sink.health()).toMatchObject({ ok: true, pending: 0 });
    expect(sink.health().detail).toMatch(/2 rejected by the database/);
    expect(errors[0]?.message).toMatch(/refused 2 lines \(HTTP 400\)/);
  });

  it('halves the request after a 413 and sends the same lines in smaller requests', async () => {
    const sink = open();
    influx.script = [413];
    sink.writeReadings(readings(0, 5));
    await step(sink, 0);
    await step(sink, 0);
    await step(sink, 0);
    await step(sink, 1000);
    // 5 refused as too large, then 2; after a success the size grows back (2 → 4).
    expect(influx.requests.map((r) => r.lines.length)).toEqual([5, 2, 3]);
    expect(influx.accepted()).toHaveLength(5);
    expect(sink.rejectedLines()).toBe(0);
  });

  it('drain() resolves once the spool is empty; close() rejects a pending drain and keeps the lines', async () => {
    const sink = open();
    sink.writeReadings(readings(0, 2));
    const drained = sink.drain();
    await step(sink, 0);
    await expect(drained).resolves.toBeUndefined();

    influx.script = [503];
    sink.writeReadings(readings(2, 1));
    const stuck = sink.drain();
    await step(sink, 0);
    await sink.close();
    await expect(stuck).rejects.toThrow(/closed before the spool drained/);
    expect(timers.armed()).toBe(0);
    const again = open();
    expect(again.health().pending).toBe(1);
  });

  it('never throws from write*, and counts writes after close as dropped', async () => {
    const sink = open();
    await sink.close();
    expect(() => sink.writeReadings(readings(0, 2))).not.toThrow();
    expect(sink.droppedLines()).toBe(2);
  });

  it('flush() sends now instead of waiting for the interval', async () => {
    const sink = open();
    sink.writeReadings(readings(0, 1));
    await sink.flush();
    await step(sink, 0);
    expect(influx.accepted()).toHaveLength(1);
  });
});
