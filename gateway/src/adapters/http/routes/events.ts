/**
 * GET /api/v1/events: live alerts, device status changes and cases as Server-Sent Events (WHATWG
 * HTML §9.2), filtered by the caller's scope.
 *
 * - Each event is `id: <n>`, `event: alert|device_status|case`, `data: <json>`. A client that
 *   reconnects sends `Last-Event-ID` and gets what it missed from the bus's ring buffer, or one
 *   `reset` event when the gap is no longer kept (reload the lists).
 * - A comment line (`: heartbeat`) every 15 s keeps proxies from closing an idle stream and lets
 *   the client notice a dead one. The token is checked again on every heartbeat: a revoked or
 *   expired token's stream ends with a `revoked` event.
 * - Per-connection queue, bounded: while the socket pushes back, events wait in the queue; a
 *   client that falls `maxQueued` events behind is sent `overflow` and disconnected (it reconnects
 *   with Last-Event-ID) instead of the gateway buffering for it without end.
 * - The browser's EventSource cannot send an Authorization header, and a token in the URL would
 *   land in access logs; the console reads the stream with fetch() instead.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Writable } from 'node:stream';
import type { ApiRole } from '../../../ports.js';
import { authOf, type RouteOptions } from '../context.js';
import type { LiveEvent } from '../deps.js';
import { seesBuilding } from '../scope.js';
import { apiErrors } from '../schemas.js';

/** Alerts and cases are for the people who answer them (integrators watch devices through the REST API). */
export const EVENT_READERS: readonly ApiRole[] = ['admin', 'staff', 'captain'];

/** Schedules `fn` every `ms`; returns the cancel function. Injected so tests move time by hand. */
export type Every = (fn: () => void, ms: number) => () => void;

export interface EventStreamOptions {
  /** Heartbeat comment interval (default 15 s). */
  readonly heartbeatMs?: number;
  /** Events a slow client may fall behind before it is dropped (default 500). */
  readonly maxQueued?: number;
  /** Reconnect delay the client is told (SSE `retry:`), ms (default 3 s). */
  readonly retryMs?: number;
  readonly every?: Every;
}

export const DEFAULT_HEARTBEAT_MS = 15_000;
export const DEFAULT_MAX_QUEUED = 500;

const realEvery: Every = (fn, ms) => {
  const timer = setInterval(fn, ms);
  return () => clearInterval(timer);
};

/** One SSE frame. JSON never contains a raw newline, so `data:` is always one line. */
export function sseFrame(event: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * One open stream over a writable (the HTTP response). Writes go straight through while the
 * socket accepts them and queue while it pushes back; past `maxQueued` the stream ends with an
 * `overflow` event.
 */
export class SseConnection {
  private readonly queue: string[] = [];
  private closed = false;
  private readonly closeListeners: Array<() => void> = [];

  constructor(
    private readonly out: Writable,
    private readonly maxQueued: number,
  ) {
    out.on('drain', () => this.flush());
    out.on('close', () => this.markClosed());
    out.on('error', () => this.markClosed());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Frames waiting for the socket. */
  get queued(): number {
    return this.queue.length;
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  send(frame: string): void {
    if (this.closed) return;
    if (this.queue.length > 0 || this.out.writableNeedDrain) {
      if (this.queue.length >= this.maxQueued) {
        this.end(sseFrame('overflow', { reason: 'client too slow; reconnect with Last-Event-ID', dropped: this.queue.length + 1 }));
        return;
      }
      this.queue.push(frame);
      return;
    }
    this.out.write(frame);
  }

  /** Ends the stream, after `lastFrame` when given; queued frames are dropped (the client replays). */
  end(lastFrame?: string): void {
    if (this.closed) return;
    this.queue.length = 0;
    this.out.end(lastFrame);
    this.markClosed();
  }

  private flush(): void {
    while (!this.closed && this.queue.length > 0 && !this.out.writableNeedDrain) {
      const frame = this.queue.shift();
      if (frame !== undefined) this.out.write(frame);
    }
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}

export const eventRoutes: FastifyPluginAsyncTypebox<RouteOptions & { stream?: EventStreamOptions }> = async (app, { deps, stream = {} }) => {
  const heartbeatMs = stream.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const maxQueued = stream.maxQueued ?? DEFAULT_MAX_QUEUED;
  const retryMs = stream.retryMs ?? 3000;
  const every = stream.every ?? realEvery;
  const open = new Set<SseConnection>();

  // fastify waits for open connections on close; an SSE stream never ends by itself.
  app.addHook('preClose', (done) => {
    for (const c of open) c.end(sseFrame('shutdown', { reason: 'gateway stopping' }));
    done();
  });

  app.get(
    '/events',
    {
      config: { roles: EVENT_READERS },
      schema: {
        tags: ['events'],
        summary: 'Live alerts, device status and cases (Server-Sent Events), filtered by the caller\'s scope',
        description:
          'A `text/event-stream`. Events: `alert` ({event, alert}), `device_status` ({deviceId, status, at}), `case`; ' +
          '`reset` when a Last-Event-ID is too old to replay; `overflow`, `revoked` and `shutdown` before the gateway ends the stream. ' +
          'Comment lines every 15 s are heartbeats.',
        headers: Type.Object({
          'last-event-id': Type.Optional(Type.String({ maxLength: 32, description: 'The last `id:` received; missed events are replayed' })),
        }),
        produces: ['text/event-stream'],
        response: { 200: Type.String({ description: 'text/event-stream' }), ...apiErrors },
      },
    },
    async (request, reply) => {
      const { token, visibility } = authOf(request);
      const visible = (e: LiveEvent) => seesBuilding(visibility, e.buildingId);
      const lastEventId = request.headers['last-event-id'];
      const sinceId = lastEventId !== undefined && /^\d{1,16}$/.test(lastEventId) ? Number(lastEventId) : undefined;

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        // nginx buffers proxied answers by default; a buffered event stream is no stream.
        'x-accel-buffering': 'no',
      });
      const conn = new SseConnection(res, maxQueued);
      open.add(conn);
      conn.send(`retry: ${retryMs}\n: connected\n\n`);

      // Replay and subscribe in the same tick: nothing can be published in between.
      if (lastEventId !== undefined) {
        const missed = sinceId === undefined ? null : deps.events.recent(sinceId);
        if (missed === null) conn.send(sseFrame('reset', { reason: 'missed events are no longer kept; reload' }));
        else for (const e of missed) if (visible(e)) conn.send(sseFrame(e.type, e.data, e.id));
      }
      const unsubscribe = deps.events.subscribe((e) => {
        if (visible(e)) conn.send(sseFrame(e.type, e.data, e.id));
      });
      const cancelHeartbeat = every(() => {
        const current = deps.tokens.tokens().find((t) => t.id === token.id);
        if (current === undefined || current.revoked || (current.expiresAt !== null && current.expiresAt <= deps.clock.now())) {
          conn.end(sseFrame('revoked', { reason: 'the token was revoked or has expired' }));
          return;
        }
        conn.send(': heartbeat\n\n');
      }, heartbeatMs);

      const cleanup = () => {
        unsubscribe();
        cancelHeartbeat();
        open.delete(conn);
      };
      // The response's 'close' fires when the client goes away (not the request's: since Node 16
      // that fires once the request body has been read, i.e. at once for a GET).
      conn.onClose(cleanup);
    },
  );
};
