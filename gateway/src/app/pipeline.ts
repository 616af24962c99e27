/**
 * The ingest pipeline around the pure decision in domain/ingest.ts: count, dead-letter, store,
 * update device state, and hand accepted messages to whoever listens (rules, live events).
 *
 * Invariant, checked by tests and exported on /metrics: received = accepted + rejected. Nothing
 * here throws back into the broker; a fault in a listener or sink is logged and counted.
 */
import type { Logger } from 'pino';
import type { DeviceStates } from '../domain/device-state.js';
import type { Ingest, RawMessage } from '../domain/ingest.js';
import type { Accepted, Channel, DeviceEvent, Reading } from '../domain/message.js';
import type { RejectionReason } from '../domain/rejection.js';
import type { DeadLetterStore, TimeSeriesSink } from '../ports.js';
import type { GatewayMetrics } from './metrics.js';

export type AcceptedListener = (accepted: Accepted) => void;

export interface PipelineCounts {
  received: number;
  accepted: number;
  rejected: number;
  rejectedByReason: Partial<Record<RejectionReason, number>>;
  listenerErrors: number;
}

export class Pipeline {
  readonly counts: PipelineCounts = { received: 0, accepted: 0, rejected: 0, rejectedByReason: {}, listenerErrors: 0 };
  private readonly listeners: AcceptedListener[] = [];
  /** A flood of bad messages must not become a flood of log lines: the metrics carry the totals. */
  private readonly logBudget = new LogBudget(10, 60_000);

  constructor(
    private readonly deps: {
      ingest: Ingest;
      sinks: readonly TimeSeriesSink[];
      deadLetters: DeadLetterStore;
      deviceStates: DeviceStates;
      metrics: GatewayMetrics;
      log: Logger;
      /** The store whose commit makes a message safe to acknowledge (the embedded SQLite store). */
      durable?: { afterCommit(done: () => void): void };
    },
  ) {}

  /**
   * Handles a message and calls `done` when it may be acknowledged: at once for QoS 0, after the
   * durable store has committed it for QoS 1 and 2 (accepted or dead-lettered: either way kept).
   */
  handleThenAck(message: RawMessage, qos: 0 | 1 | 2, done: () => void): void {
    this.handle(message);
    if (qos === 0 || this.deps.durable === undefined) done();
    else this.deps.durable.afterCommit(done);
  }

  onAccepted(listener: AcceptedListener): void {
    this.listeners.push(listener);
  }

  handle(message: RawMessage): void {
    this.counts.received++;
    let outcome;
    try {
      outcome = this.deps.ingest.decode(message);
    } catch (err) {
      // A decoder bug must not take the gateway down nor lose the message: dead-letter it.
      this.deps.log.error({ err, topic: message.topic }, 'ingest decoder failed');
      outcome = { ok: false as const, rejection: { reason: 'schema_violation' as const, detail: `internal decoder error: ${(err as Error).message}` }, deviceId: message.publisher, channel: null };
    }
    if (!outcome.ok) {
      this.reject(message, outcome.rejection.reason, outcome.rejection.detail, outcome.deviceId, outcome.channel);
      return;
    }
    const accepted = outcome.accepted;
    this.counts.accepted++;
    this.deps.metrics.countReceived(accepted.channel);
    this.deps.metrics.countAccepted(accepted.channel);
    this.deps.deviceStates.apply(accepted);
    if (accepted.channel === 'telemetry') this.storeReading(accepted.reading);
    else if (accepted.channel === 'event') this.storeEvent(accepted.event);
    for (const listener of this.listeners) {
      try {
        listener(accepted);
      } catch (err) {
        this.counts.listenerErrors++;
        this.deps.log.error({ err, deviceId: deviceOf(accepted) }, 'listener failed on an accepted message');
      }
    }
  }

  private storeReading(reading: Reading): void {
    const one = [reading];
    for (const sink of this.deps.sinks) {
      sink.writeReadings(one);
      this.deps.metrics.countStored(sink.name);
    }
  }

  private storeEvent(event: DeviceEvent): void {
    const one = [event];
    for (const sink of this.deps.sinks) {
      sink.writeEvents(one);
      this.deps.metrics.countStored(sink.name);
    }
  }

  private reject(message: RawMessage, reason: RejectionReason, detail: string, deviceId: string | null, channel: Channel | null): void {
    this.counts.rejected++;
    this.counts.rejectedByReason[reason] = (this.counts.rejectedByReason[reason] ?? 0) + 1;
    this.deps.metrics.countReceived(channel);
    this.deps.metrics.countRejected(reason);
    // Redeliveries are expected protocol behaviour (QoS 1), not bad input: counted, not kept.
    if (reason !== 'duplicate') {
      try {
        this.deps.deadLetters.add({ receivedAt: message.receivedAt, topic: message.topic, deviceId, reason, detail, payload: message.payload });
      } catch (err) {
        this.deps.log.error({ err, reason }, 'dead-letter store failed; the rejection is still counted');
      }
      const heldBack = this.logBudget.take(reason, message.receivedAt);
      if (heldBack !== null) {
        this.deps.log.warn({ deviceId, reason, detail, topic: message.topic.slice(0, 200), similarNotLogged: heldBack }, 'message rejected');
      }
    }
  }
}

function deviceOf(accepted: Accepted): string {
  switch (accepted.channel) {
    case 'telemetry':
      return accepted.reading.deviceId;
    case 'event':
      return accepted.event.deviceId;
    case 'status':
      return accepted.status.deviceId;
  }
}

/** At most `perWindow` log lines per key per window; the next line after a window says how many were held back. */
class LogBudget {
  private readonly windows = new Map<string, { start: number; used: number; held: number }>();

  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
  ) {}

  /** null: do not log. A number: log, and mention how many lines of this key were held back before. */
  take(key: string, now: number): number | null {
    const w = this.windows.get(key);
    if (w === undefined || now - w.start >= this.windowMs) {
      this.windows.set(key, { start: now, used: 1, held: 0 });
      return w?.held ?? 0;
    }
    if (w.used < this.perWindow) {
      w.used++;
      return 0;
    }
    w.held++;
    return null;
  }
}
