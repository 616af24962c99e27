/**
 * The live event bus behind GET /api/v1/events: an in-memory ring buffer of the newest events
 * with increasing ids, and the subscribers (one per open stream).
 *
 * Ids start at the clock's epoch milliseconds when the bus is made, so an id a client kept from
 * an earlier run of the gateway is older than anything this run holds: the stream answers
 * `reset` (reload) instead of silently replaying nothing. Replay is best effort by design: the
 * REST lists are the record, the stream only saves a reload after a short disconnect.
 */
import type { AlertChange } from '../../domain/alerts/types.js';
import type { CaseChange } from '../../domain/cases/types.js';
import type { StatusReport } from '../../domain/message.js';
import type { Clock } from '../../ports.js';
import type { LiveEvent, LiveEventFeed, LiveEventType } from './deps.js';
import { alertSummary } from './routes/alerts.js';
import { caseSummary } from './routes/cases.js';
import { iso } from './schemas.js';

export interface EventBusOptions {
  readonly clock: Clock;
  /** Events kept for replay (default 1000: minutes of a busy site, hours of a quiet one). */
  readonly capacity?: number;
  /** Told when a subscriber throws; the other subscribers still get the event. */
  readonly onListenerError?: (err: unknown) => void;
}

export class EventBus implements LiveEventFeed {
  private readonly ring: LiveEvent[] = [];
  private readonly listeners = new Set<(event: LiveEvent) => void>();
  private readonly capacity: number;
  /** Id of the first event this run will publish; anything below it is from before. */
  private readonly firstId: number;
  private nextId: number;

  constructor(private readonly options: EventBusOptions) {
    this.capacity = Math.max(1, options.capacity ?? 1000);
    this.firstId = Math.max(1, Math.floor(options.clock.now()));
    this.nextId = this.firstId;
  }

  publish(event: { type: LiveEventType; buildingId: string; data: unknown }): LiveEvent {
    const live: LiveEvent = { id: this.nextId++, type: event.type, buildingId: event.buildingId, at: this.options.clock.now(), data: event.data };
    this.ring.push(live);
    if (this.ring.length > this.capacity) this.ring.shift();
    for (const listener of [...this.listeners]) {
      try {
        listener(live);
      } catch (err) {
        this.options.onListenerError?.(err);
      }
    }
    return live;
  }

  subscribe(listener: (event: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  recent(sinceId: number): LiveEvent[] | null {
    if (sinceId === this.nextId - 1) return [];
    const oldest = this.ring[0]?.id ?? this.nextId;
    // sinceId = oldest - 1 means "I saw everything before the oldest kept": still complete.
    // Below that the gap is lost (or the id is from an earlier run); above the newest it is not ours.
    if (sinceId < oldest - 1 || sinceId >= this.nextId) return null;
    return this.ring.filter((e) => e.id > sinceId);
  }

  /** Open streams (for tests and metrics). */
  get subscriberCount(): number {
    return this.listeners.size;
  }
}

/** An alert change as a live event: the alert summary (as GET /alerts lists it) and what happened. */
export function alertEvent(change: AlertChange): { type: 'alert'; buildingId: string; data: unknown } {
  return { type: 'alert', buildingId: change.alert.source.buildingId, data: { event: change.event, alert: alertSummary(change.alert) } };
}

/** A device's retained status message (online / offline, the Last Will) as a live event. */
export function deviceStatusEvent(status: StatusReport): { type: 'device_status'; buildingId: string; data: unknown } {
  return {
    type: 'device_status',
    buildingId: status.buildingId,
    data: { deviceId: status.deviceId, kind: status.kind, floor: status.floor, status: status.status, at: iso(status.receivedAt) },
  };
}

/**
 * A committed case change as a live event: what happened (the history entry's action: opened,
 * accept, overdue…) and the case summary as GET /cases lists it. The stream filters it by the
 * case's building like every other event. `overdue` is as of `now` (default: the change's own
 * time, which is when the gateway publishes it).
 */
export function caseEvent(change: CaseChange, now: number = change.case.updatedAt): { type: 'case'; buildingId: string; data: unknown } {
  return { type: 'case', buildingId: change.case.buildingId, data: { event: change.action, case: caseSummary(change.case, now) } };
}
