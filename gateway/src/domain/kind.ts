/**
 * The sensor-kind extension point. A kind is data: one file that calls `defineKind()` with its
 * measurements, events, event attributes, heartbeat contract and sample generators. Ingest
 * validation, storage field names, the API listing, dashboards and the simulator are all derived
 * from this declaration; nothing else needs to know a kind exists.
 */
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import type { AnyRule } from './rules/definition.js';
import type { SignalClass } from './signal.js';

/** A numeric value a kind reports on its telemetry channel. */
export interface Measurement {
  /** Field name in the payload and in storage (snake_case, stable forever). */
  readonly name: string;
  readonly title: string;
  readonly titleZh: string;
  /** UCUM-ish unit as shown on dashboards: '%', 'dB/m', 'ppm', '°C', 'dBm', 'fps', 'kbit/s', 's', 'GB'. */
  readonly unit: string;
  /** Physically plausible range; values outside are rejected as schema violations. */
  readonly min: number;
  readonly max: number;
  /** Integer-valued measurements stay integers in every sink (stable field types). */
  readonly integer?: boolean;
}

/** A discrete event a kind reports on its event channel. */
export interface EventSpec {
  /** Dotted event type, e.g. 'smoke.alarm', 'door.forced_open'. */
  readonly type: string;
  readonly signalClass: SignalClass;
  readonly title: string;
  readonly titleZh: string;
}

/**
 * How often a device proves it is alive with data (telemetry or a heartbeat event), not with TCP
 * keepalives: a connected device that sends nothing is not known to work.
 */
export interface HeartbeatContract {
  readonly power: 'mains' | 'battery';
  /** Expected interval between data messages. */
  readonly intervalS: number;
  /** Declared offline after this long without data (default: max(3 × interval, 60 s)). */
  readonly offlineAfterS: number;
}

/** Deterministic context handed to sample generators (simulator and conformance tests). */
export interface SampleContext {
  /** Uniform [0, 1) from a seeded generator. */
  readonly rng: () => number;
  /** Epoch milliseconds. */
  readonly now: number;
  readonly seq: number;
  readonly deviceId: string;
  /** Per-device state a generator may keep between calls (battery decay, counters). */
  readonly state: Record<string, unknown>;
}

export type JsonObject = Record<string, unknown>;

export interface KindSamples {
  /** A plausible telemetry payload for this device at ctx.now. */
  telemetry(ctx: SampleContext): JsonObject;
  /** A plausible event payload (heartbeat or other info/trouble event, mostly). */
  event(ctx: SampleContext): JsonObject;
}

export interface KindInput {
  readonly id: string;
  readonly title: string;
  readonly titleZh: string;
  readonly description: string;
  readonly measurements: readonly Measurement[];
  readonly events: readonly EventSpec[];
  /** Extra, kind-specific attributes an event payload may carry (doorId, personRef, score…). */
  readonly eventAttributes?: Record<string, TSchema>;
  readonly heartbeat: HeartbeatContract;
  readonly sample: KindSamples;
  /**
   * Default hazard rules, composed from the factories in rules/factories.ts (every kind declares
   * device.offline and a rule for each of its alarm, supervisory and trouble events).
   */
  readonly rules?: readonly AnyRule[];
}

export interface KindDefinition extends KindInput {
  readonly telemetrySchema: TObject;
  readonly eventSchema: TObject;
  readonly eventsByType: ReadonlyMap<string, EventSpec>;
  readonly measurementsByName: ReadonlyMap<string, Measurement>;
}

/** Device clock: ISO 8601 string or epoch milliseconds. */
export const Timestamp = Type.Union(
  [
    Type.String({ format: 'date-time', minLength: 10, maxLength: 40 }),
    Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000 }),
  ],
  { description: 'Device clock: ISO 8601 date-time or epoch milliseconds' },
);

/** Fields every message on every channel may carry. */
export function commonFields(): Record<string, TSchema> {
  return {
    deviceId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Must equal the device id in the topic' }),
    ),
    ts: Type.Optional(Timestamp),
    seq: Type.Optional(
      Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Monotonic per device, for de-duplication' }),
    ),
    raw: Type.Optional(
      Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), {
        description: 'Vendor codes kept verbatim for diagnosis; never interpreted',
      }),
    ),
  };
}

/** Build a kind from its declaration: derives the payload schemas and lookup maps. */
export function defineKind(input: KindInput): KindDefinition {
  assertKindShape(input);
  const measurementFields: Record<string, TSchema> = {};
  for (const m of input.measurements) {
    const opts = { minimum: m.min, maximum: m.max, description: `${m.title} (${m.unit})` };
    measurementFields[m.name] = Type.Optional(m.integer ? Type.Integer(opts) : Type.Number(opts));
  }
  const telemetrySchema = Type.Object(
    { ...commonFields(), ...measurementFields },
    { additionalProperties: false, minProperties: 1, $id: `gridwatch/kinds/${input.id}/telemetry` },
  );
  const eventSchema = Type.Object(
    {
      ...commonFields(),
      type: Type.Union(input.events.map((e) => Type.Literal(e.type))),
      ...optionalAll(input.eventAttributes ?? {}),
    },
    { additionalProperties: false, $id: `gridwatch/kinds/${input.id}/event` },
  );
  return Object.freeze({
    ...input,
    telemetrySchema,
    eventSchema,
    eventsByType: new Map(input.events.map((e) => [e.type, e])),
    measurementsByName: new Map(input.measurements.map((m) => [m.name, m])),
  });
}

function optionalAll(attrs: Record<string, TSchema>): Record<string, TSchema> {
  const out: Record<string, TSchema> = {};
  for (const [name, schema] of Object.entries(attrs)) out[name] = Type.Optional(schema);
  return out;
}

const ID = /^[a-z][a-z0-9-]{1,31}$/;
const FIELD = /^[a-z][a-z0-9_]{0,47}$/;
const EVENT_TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const RESERVED = new Set(['deviceId', 'ts', 'seq', 'raw', 'type']);

/** A kind with a broken declaration must fail at start-up, not at the first message. */
function assertKindShape(k: KindInput): void {
  const problems: string[] = [];
  if (!ID.test(k.id)) problems.push(`id '${k.id}' must match ${ID}`);
  const names = new Set<string>();
  for (const m of k.measurements) {
    if (!FIELD.test(m.name)) problems.push(`measurement '${m.name}' must match ${FIELD}`);
    if (RESERVED.has(m.name)) problems.push(`measurement '${m.name}' uses a reserved field name`);
    if (names.has(m.name)) problems.push(`measurement '${m.name}' declared twice`);
    if (!(m.min < m.max)) problems.push(`measurement '${m.name}' needs min < max`);
    names.add(m.name);
  }
  const types = new Set<string>();
  for (const e of k.events) {
    if (!EVENT_TYPE.test(e.type)) problems.push(`event '${e.type}' must match ${EVENT_TYPE}`);
    if (types.has(e.type)) problems.push(`event '${e.type}' declared twice`);
    types.add(e.type);
  }
  if (k.events.length === 0) problems.push('a kind declares at least one event (its heartbeat)');
  for (const name of Object.keys(k.eventAttributes ?? {})) {
    if (RESERVED.has(name)) problems.push(`event attribute '${name}' uses a reserved field name`);
  }
  if (k.heartbeat.intervalS <= 0) problems.push('heartbeat.intervalS must be positive');
  if (k.heartbeat.offlineAfterS < k.heartbeat.intervalS) {
    problems.push('heartbeat.offlineAfterS must be at least one interval');
  }
  if (problems.length > 0) throw new Error(`kind '${k.id}': ${problems.join('; ')}`);
}

/** Default offline threshold used by platforms (GB/T 28181: 3 missed keepalives), at least 60 s. */
export function defaultOfflineAfterS(intervalS: number): number {
  return Math.max(3 * intervalS, 60);
}
