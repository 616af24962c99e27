/**
 * GET /api/v1/events over a real HTTP listener on port 0 (an event stream needs a socket, not
 * inject): SSE framing, scope filter, Last-Event-ID replay and reset, heartbeats on an injected
 * timer, token revocation, clean-up on disconnect and on close, and the bounded per-connection
 * queue against a real slow stream.
 */
import http from 'node:http';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashToken } from '../../../gateway/src/adapters/secrets.js';
import { EventBus, alertEvent, deviceStatusEvent } from '../../../gateway/src/adapters/http/event-bus.js';
import { SseConnection, sseFrame, type Every } from '../../../gateway/src/adapters/http/routes/events.js';
import { makeAlert } from './support/alerts.js';
import { FakeClock, T0, createHarness, type Harness } from './harness.js';

interface SseEvent {
  id: string | null;
  event: string;
  data: unknown;
}

/** A minimal SSE client over node:http: parsed events, comment lines, and a way to wait for either. */
interface StreamClient {
  status: number;
  events: SseEvent[];
  comments: string[];
  ended: boolean;
  waitFor(what: string, check: () => boolean): Promise<void>;
  close(): void;
}

function openStream(port: number, token: string, headers: Record<string, string> = {}): Promise<StreamClient> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/events', headers: { authorization: `Bearer ${token}`, ...headers } }, (res) => {
      const waiters: Array<{ check: () => boolean; done: () => void }> = [];
      const client: StreamClient = {
        status: res.statusCode ?? 0,
        events: [],
        comments: [],
        ended: false,
        waitFor(what, check) {
          if (check()) return Promise.resolve();
          return new Promise((done, fail) => {
            // Fails the test instead of hanging it when the event never comes.
            const timer = setTimeout(() => fail(new Error(`timed out waiting for ${what}`)), 3000);
            waiters.push({
              check,
              done: () => {
                clearTimeout(timer);
                done();
              },
            });
          });
        },
        close: () => req.destroy(),
      };
      const wake = () => {
        for (const w of [...waiters]) {
          if (!w.check()) continue;
          waiters.splice(waiters.indexOf(w), 1);
          w.done();
        }
      };
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const e: SseEvent = { id: null, event: 'message', data: undefined };
          let hasData = false;
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) client.comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) e.id = line.slice(4);
            else if (line.startsWith('event: ')) e.event = line.slice(7);
            else if (line.startsWith('data: ')) {
              e.data = JSON.parse(line.slice(6));
              hasData = true;
            }
          }
          if (hasData) client.events.push(e);
        }
        wake();
      });
      res.on('end', () => {
        client.ended = true;
        wake();
      });
      res.on('error', () => undefined);
      resolve(client);
    });
    req.on('error', reject);
  });
}

/** A timer the test fires by hand: heartbeats without waiting 15 s. */
class ManualTimer {
  readonly tasks = new Set<() => void>();
  every: Every = (fn) => {
    this.tasks.add(fn);
    return () => this.tasks.delete(fn);
  };
  fire(): void {
    for (const fn of [...this.tasks]) fn();
  }
}

let h: Harness;
let timer: ManualTimer;
let port: number;
const clients: StreamClient[] = [];

async function stream(token: string, headers: Record<string, string> = {}): Promise<StreamClient> {
  const c = await openStream(port, token, headers);
  clients.push(c);
  await c.waitFor('the connected comment', () => c.comments.includes('connected'));
  return c;
}

beforeEach(async () => {
  timer = new ManualTimer();
  h = await createHarness({ events: { every: timer.every, heartbeatMs: 15_000 } });
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const address = h.app.server.address();
  port = typeof address === 'object' && address !== null ? address.port : 0;
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await h.close();
});

describe('GET /api/v1/events', () => {
  it('streams alert and device status events as SSE with ids, no-store and no proxy buffering', async () => {
    const c = await stream(h.tokens.admin);
    expect(c.status).toBe(200);
    const alert = makeAlert();
    const published = h.events.publish(alertEvent({ alert, event: 'raised', notify: [] }));
    h.events.publish(
      deviceStatusEvent({ deviceId: 'door-b1-01', kind: 'door', buildingId: 'b1', floor: 1, status: 'offline', receivedAt: T0 }),
    );
    await c.waitFor('two events', () => c.events.length === 2);
    expect(c.events[0]).toEqual({ id: String(published.id), event: 'alert', data: { event: 'raised', alert: expect.objectContaining({ id: alert.id, state: 'active_unack', signalClass: 'alarm' }) } });
    expect(c.events[1]).toEqual({ id: String(published.id + 1), event: 'device_status', data: { deviceId: 'door-b1-01', kind: 'door', floor: 1, status: 'offline', at: new Date(T0).toISOString() } });
  });

  it('answers text/event-stream with no-store and x-accel-buffering: no', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/events', headers: { authorization: `Bearer ${h.tokens.admin}` } }, (r) => {
        resolve(r);
        req.destroy();
      });
      req.on('error', () => undefined);
    });
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-accel-buffering']).toBe('no');
  });

  it("filters by the caller's scope: a captain of b1 does not get b3's events", async () => {
    const captain = await stream(h.tokens.captain);
    const staff = await stream(h.tokens.staff); // community c1: b1 and b2
    const admin = await stream(h.tokens.admin);
    h.events.publish({ type: 'alert', buildingId: 'b3', data: { n: 1 } });
    h.events.publish({ type: 'alert', buildingId: 'b2', data: { n: 2 } });
    h.events.publish({ type: 'case', buildingId: 'b1', data: { n: 3 } });
    await admin.waitFor('three events', () => admin.events.length === 3);
    await staff.waitFor('two events', () => staff.events.length === 2);
    await captain.waitFor('the b1 event', () => captain.events.length === 1);
    expect(captain.events.map((e) => e.data)).toEqual([{ n: 3 }]);
    expect(staff.events.map((e) => e.data)).toEqual([{ n: 2 }, { n: 3 }]);
    expect(captain.events[0]?.event).toBe('case');
  });

  it('replays what a reconnecting client missed after Last-Event-ID, in scope', async () => {
    const first = h.events.publish({ type: 'alert', buildingId: 'b1', data: { n: 1 } });
    h.events.publish({ type: 'alert', buildingId: 'b3', data: { n: 2 } });
    h.events.publish({ type: 'alert', buildingId: 'b1', data: { n: 3 } });
    const c = await stream(h.tokens.captain, { 'last-event-id': String(first.id) });
    h.events.publish({ type: 'alert', buildingId: 'b1', data: { n: 4 } });
    await c.waitFor('two events', () => c.events.length === 2);
    expect(c.events.map((e) => e.data)).toEqual([{ n: 3 }, { n: 4 }]);
  });

  it('sends reset when Last-Event-ID is older than the ring buffer keeps, or not a number', async () => {
    const first = h.events.publish({ type: 'alert', buildingId: 'b1', data: { n: 0 } });
    for (let i = 1; i <= 60; i++) h.events.publish({ type: 'alert', buildingId: 'b1', data: { n: i } }); // capacity 50
    const old = await stream(h.tokens.admin, { 'last-event-id': String(first.id) });
    await old.waitFor('reset', () => old.events.length === 1);
    expect(old.events[0]?.event).toBe('reset');
    const junk = await stream(h.tokens.admin, { 'last-event-id': 'yesterday' });
    await junk.waitFor('reset', () => junk.events.length === 1);
    expect(junk.events[0]?.event).toBe('reset');
  });

  it('sends a heartbeat comment on every tick, and ends the stream once the token is revoked', async () => {
    const token = h.addToken('captain', ['b1']);
    const c = await stream(token);
    timer.fire();
    timer.fire();
    await c.waitFor('two heartbeats', () => c.comments.filter((x) => x === 'heartbeat').length === 2);
    h.site.revokeToken(h.site.tokenByHash(hashToken(token))?.id ?? 'missing');
    timer.fire();
    await c.waitFor('the end', () => c.ended);
    expect(c.events.at(-1)?.event).toBe('revoked');
  });

  it('ends the stream of an expired token at the next heartbeat', async () => {
    const token = h.addToken('staff', ['c1'], { expiresAt: h.clock.now() + 60_000 });
    const c = await stream(token);
    h.clock.advance(60_000);
    timer.fire();
    await c.waitFor('the end', () => c.ended);
    expect(c.events.at(-1)?.event).toBe('revoked');
  });

  it('unsubscribes and stops the heartbeat when the client goes away', async () => {
    const a = await stream(h.tokens.admin);
    await stream(h.tokens.captain);
    expect(h.events.subscriberCount).toBe(2);
    expect(timer.tasks.size).toBe(2);
    a.close();
    await waitUntil(() => h.events.subscriberCount === 1);
    expect(timer.tasks.size).toBe(1);
  });

  it('ends open streams with a shutdown event when the app closes (close does not hang)', async () => {
    const c = await stream(h.tokens.admin);
    await h.app.close();
    await c.waitFor('the end', () => c.ended);
    expect(c.events.at(-1)?.event).toBe('shutdown');
    expect(h.events.subscriberCount).toBe(0);
  });

  it('refuses anonymous callers (401) and integrators (403)', async () => {
    const anonymous = await fetch(`http://127.0.0.1:${port}/api/v1/events`);
    expect(anonymous.status).toBe(401);
    const integrator = await fetch(`http://127.0.0.1:${port}/api/v1/events`, { headers: { authorization: `Bearer ${h.tokens.integrator}` } });
    expect(integrator.status).toBe(403);
    expect(((await integrator.json()) as { error: { code: string } }).error.code).toBe('GW_FORBIDDEN');
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !condition(); i++) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

describe('SseConnection: the bounded per-connection queue', () => {
  /** A real stream that accepts one chunk and then takes its time: writes after it push back. */
  function slowStream() {
    const written: string[] = [];
    const pending: Array<() => void> = [];
    const out = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, callback) {
        written.push(chunk.toString());
        pending.push(callback);
      },
    });
    return { out, written, release: () => pending.splice(0).forEach((cb) => cb()) };
  }

  it('queues while the socket pushes back and sends in order once it drains', async () => {
    const { out, written, release } = slowStream();
    const conn = new SseConnection(out, 10);
    for (let i = 1; i <= 4; i++) conn.send(sseFrame('alert', { n: i }, i));
    expect(written).toHaveLength(1);
    expect(conn.queued).toBe(3);
    for (let i = 0; i < 4; i++) {
      release();
      await new Promise((r) => setImmediate(r));
    }
    expect(written.map((w) => /"n":(\d)/.exec(w)?.[1])).toEqual(['1', '2', '3', '4']);
    expect(conn.queued).toBe(0);
    expect(conn.isClosed).toBe(false);
  });

  it('drops a client that falls more than maxQueued events behind, with a final overflow event', async () => {
    const { out, written, release } = slowStream();
    const conn = new SseConnection(out, 3);
    let closed = 0;
    conn.onClose(() => closed++);
    for (let i = 1; i <= 5; i++) conn.send(sseFrame('alert', { n: i }, i));
    expect(conn.isClosed).toBe(true);
    expect(closed).toBe(1);
    expect(conn.queued).toBe(0);
    conn.send(sseFrame('alert', { n: 6 }, 6)); // ignored after the end
    for (let i = 0; i < 3; i++) {
      release();
      await new Promise((r) => setImmediate(r));
    }
    expect(written[0]).toContain('"n":1');
    expect(written.at(-1)).toContain('event: overflow');
    expect(written.join('')).not.toContain('"n":6');
  });
});

describe('EventBus', () => {
  it('numbers events from the clock at creation, so an id from an earlier run asks for a reset', () => {
    const clock = new FakeClock(T0);
    const earlier = new EventBus({ clock });
    const oldId = earlier.publish({ type: 'alert', buildingId: 'b1', data: 1 }).id;
    clock.advance(1000);
    const bus = new EventBus({ clock, capacity: 3 });
    const ids = [1, 2, 3, 4].map((n) => bus.publish({ type: 'alert', buildingId: 'b1', data: n }).id);
    expect(ids).toEqual([T0 + 1000, T0 + 1001, T0 + 1002, T0 + 1003]);
    expect(bus.recent(oldId)).toBeNull();
    // Capacity 3: the first event is gone, so "after the first" is still complete, "before it" is not.
    expect(bus.recent(ids[0] ?? 0)?.map((e) => e.data)).toEqual([2, 3, 4]);
    expect(bus.recent((ids[0] ?? 0) - 1)).toBeNull();
    expect(bus.recent(ids[3] ?? 0)).toEqual([]);
    expect(bus.recent((ids[3] ?? 0) + 5)).toBeNull();
  });

  it('keeps telling the other subscribers when one throws', () => {
    const errors: unknown[] = [];
    const bus = new EventBus({ clock: new FakeClock(), onListenerError: (e) => errors.push(e) });
    const got: unknown[] = [];
    bus.subscribe(() => {
      throw new Error('broken listener');
    });
    const off = bus.subscribe((e) => got.push(e.data));
    bus.publish({ type: 'case', buildingId: 'b1', data: 'x' });
    off();
    bus.publish({ type: 'case', buildingId: 'b1', data: 'y' });
    expect(got).toEqual(['x']);
    expect(errors).toHaveLength(2);
  });
});
