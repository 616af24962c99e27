/**
 * A rule engine over a small in-memory registry, with fake time: tests pass `now` numbers and
 * `advance()` ticks exactly at each wake-up the engine asks for, like a perfect scheduler.
 */
import type { AlertSignal } from '../../../gateway/src/domain/alerts/types.js';
import type { KindDefinition } from '../../../gateway/src/domain/kind.js';
import { kindById } from '../../../gateway/src/domain/kinds/index.js';
import type { Accepted, AttributeValue } from '../../../gateway/src/domain/message.js';
import { createRuleEngine, type RuleEngineOptions } from '../../../gateway/src/domain/rules/engine.js';
import type { OccupancySchedule } from '../../../gateway/src/domain/rules/occupancy.js';
import { resolveEffectiveRules } from '../../../gateway/src/domain/rules/settings.js';
import type { RuleOverrides } from '../../../gateway/src/domain/rules/types.js';
import type { Device } from '../../../gateway/src/domain/site.js';

/** Monday 2025-06-02 10:00 China time (02:00 UTC): inside the default occupied hours. */
export const T0 = Date.UTC(2025, 5, 2, 2, 0, 0);
/** The same Monday at 23:00 China time: after hours. */
export const NIGHT = Date.UTC(2025, 5, 2, 15, 0, 0);
export const S = 1000;
export const MIN = 60 * S;

export function device(id: string, kind: string, more: Partial<Device> = {}): Device {
  return { id, kind, buildingId: 'B1', floor: 3, name: null, parentId: null, disabled: false, createdAt: 0, ...more };
}

export interface HarnessOptions {
  devices: Device[];
  startedAt?: number;
  building?: RuleOverrides;
  perDevice?: Record<string, RuleOverrides>;
  occupancy?: OccupancySchedule;
  snapshot?: unknown;
  /** Hand the registry to the engine as knownDevices (offline watch from start-up). */
  known?: boolean;
}

export class Harness {
  readonly engine: ReturnType<typeof createRuleEngine>;
  readonly signals: AlertSignal[] = [];
  readonly faults: unknown[] = [];
  now: number;
  private readonly devices: Map<string, Device>;
  private seq = 0;

  constructor(readonly options: HarnessOptions) {
    this.devices = new Map(options.devices.map((d) => [d.id, d]));
    this.now = options.startedAt ?? T0;
    const opts: RuleEngineOptions = {
      device: (id) => this.devices.get(id),
      kind: (id) => kindById(id),
      rulesFor: (id) => {
        const d = this.devices.get(id);
        const k = d ? kindById(d.kind) : undefined;
        return k ? resolveEffectiveRules(k, options.building, options.perDevice?.[id], id) : undefined;
      },
      occupancy: () => options.occupancy,
      startedAt: options.startedAt ?? T0,
      ...(options.snapshot !== undefined ? { snapshot: options.snapshot } : {}),
      ...(options.known ? { knownDevices: () => this.devices.values() } : {}),
      onRuleError: (f) => this.faults.push(f),
    };
    this.engine = createRuleEngine(opts);
  }

  kind(id: string): KindDefinition {
    const d = this.devices.get(id);
    const k = d ? kindById(d.kind) : undefined;
    if (!k) throw new Error(`no kind for ${id}`);
    return k;
  }

  private placement(id: string) {
    const d = this.devices.get(id);
    if (!d) throw new Error(`unknown device ${id}`);
    return { deviceId: id, kind: d.kind, buildingId: d.buildingId, floor: d.floor };
  }

  /** Runs every wake-up up to and including `to`, then sets the clock there. */
  advance(to: number): AlertSignal[] {
    const out: AlertSignal[] = [];
    for (let next = this.engine.nextWakeAt(); next !== null && next <= to; next = this.engine.nextWakeAt()) {
      this.now = Math.max(this.now, next);
      out.push(...this.engine.tick(this.now));
    }
    this.now = Math.max(this.now, to);
    this.signals.push(...out);
    return out;
  }

  /** Advances to `at` (firing due timers), then hands the message over at `at`. */
  accept(accepted: Accepted, at: number): AlertSignal[] {
    const before = this.advance(at - 1);
    this.now = at;
    const out = this.engine.onAccepted(accepted, at);
    this.signals.push(...out);
    return [...before, ...out];
  }

  event(id: string, type: string, at: number, attrs: Record<string, AttributeValue> = {}): AlertSignal[] {
    const spec = this.kind(id).eventsByType.get(type);
    if (!spec) throw new Error(`${type} is not an event of ${this.kind(id).id}`);
    return this.accept(
      { channel: 'event', event: { ...this.placement(id), ts: at, receivedAt: at, seq: this.seq++, type, signalClass: spec.signalClass, attrs } },
      at,
    );
  }

  reading(id: string, values: Record<string, number>, at: number): AlertSignal[] {
    return this.accept({ channel: 'telemetry', reading: { ...this.placement(id), ts: at, receivedAt: at, seq: this.seq++, values } }, at);
  }

  status(id: string, status: 'online' | 'offline', at: number): AlertSignal[] {
    return this.accept({ channel: 'status', status: { ...this.placement(id), status, receivedAt: at } }, at);
  }
}

/** Signals of one type (and action), for assertions. */
export function of(signals: readonly AlertSignal[], type: string, action?: 'raise' | 'clear'): AlertSignal[] {
  return signals.filter((s) => s.type === type && (action === undefined || s.action === action));
}

/** "raise smoke.alarm@1000" lines: compact and readable in failures. */
export function brief(signals: readonly AlertSignal[], base = 0): string[] {
  return signals.map((s) => `${s.action} ${s.type}${s.verification ? `[${s.verification}]` : ''} ${s.signalClass} @${s.at - base}`);
}
