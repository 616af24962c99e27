/**
 * Small building blocks for kind files, so a kind reads like data: measurements (`battery()`,
 * `rssi()`, `temperature()`), events by signal class (`alarm()`, `supervisory()`, `trouble()`,
 * `info()`, `heartbeat()`), heartbeat contracts (`mainsPowered()`, `batteryPowered()`), event
 * attribute schemas (`ref()`, `hashRef()`, `oneOf()`, `score()`) and deterministic sample helpers
 * driven by the context's seeded generator (never Math.random, never the wall clock).
 */
import { Type, type TSchema } from '@sinclair/typebox';
import {
  defaultOfflineAfterS,
  type EventSpec,
  type HeartbeatContract,
  type JsonObject,
  type Measurement,
  type SampleContext,
} from '../kind.js';
import type { SignalClass } from '../signal.js';

// ---------------------------------------------------------------------------------------------
// Measurements

export interface NumericOptions {
  readonly integer?: boolean;
}

export function numeric(
  name: string,
  title: string,
  titleZh: string,
  unit: string,
  min: number,
  max: number,
  options: NumericOptions = {},
): Measurement {
  return Object.freeze({ name, title, titleZh, unit, min, max, ...(options.integer ? { integer: true } : {}) });
}

/** Remaining battery, whole percent. */
export function battery(): Measurement {
  return numeric('battery', 'Battery', '电池电量', '%', 0, 100, { integer: true });
}

/**
 * Received signal strength. -140 dBm covers NB-IoT at its coverage limit (3GPP TS 36.133
 * NRSRP floor); 0 dBm is a transmitter next to the antenna.
 */
export function rssi(): Measurement {
  return numeric('rssi', 'Signal strength', '信号强度', 'dBm', -140, 0, { integer: true });
}

/** Temperature; the default range is the usual industrial electronics rating (-40…85 °C). */
export function temperature(min = -40, max = 85, name = 'temperature'): Measurement {
  return numeric(name, 'Temperature', '温度', '°C', min, max);
}

// ---------------------------------------------------------------------------------------------
// Events, by signal class (see domain reference §2: alarm > supervisory > trouble > info)

function event(signalClass: SignalClass, type: string, title: string, titleZh: string): EventSpec {
  return Object.freeze({ type, signalClass, title, titleZh });
}

/** Act now: life safety or security (火警). */
export const alarm = (type: string, title: string, titleZh: string): EventSpec => event('alarm', type, title, titleZh);
/** A protection is impaired or off-normal (监管). */
export const supervisory = (type: string, title: string, titleZh: string): EventSpec =>
  event('supervisory', type, title, titleZh);
/** The monitoring itself is faulty (故障). */
export const trouble = (type: string, title: string, titleZh: string): EventSpec => event('trouble', type, title, titleZh);
/** Audit only. */
export const info = (type: string, title: string, titleZh: string): EventSpec => event('info', type, title, titleZh);

/** Every kind has one: the data message that proves a device works (not a TCP keepalive). */
export function heartbeat(): EventSpec {
  return info('heartbeat', 'Heartbeat', '心跳');
}

// ---------------------------------------------------------------------------------------------
// Heartbeat contracts

/** Mains-powered devices report often; offline after max(3 × interval, 60 s) (GB/T 28181 keepalive). */
export function mainsPowered(intervalS: number): HeartbeatContract {
  return Object.freeze({ power: 'mains', intervalS, offlineAfterS: defaultOfflineAfterS(intervalS) });
}

/** Battery devices sleep between reports, so their interval is long (hours). */
export function batteryPowered(intervalS: number): HeartbeatContract {
  return Object.freeze({ power: 'battery', intervalS, offlineAfterS: defaultOfflineAfterS(intervalS) });
}

// ---------------------------------------------------------------------------------------------
// Event attribute schemas

/** An opaque reference into the site registry or the vendor's system (door, reader, person, gate). */
export function ref(description: string): TSchema {
  return Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$', description });
}

/**
 * A salted hash, never the raw value (a card number, a face template). Only the lengths of a
 * SHA-256 or SHA-512 digest are accepted, as lowercase hex or unpadded base64url, so a raw card
 * number (8–20 digits) or a 7-byte UID in hex can never pass as a reference.
 */
export function hashRef(description: string): TSchema {
  return Type.String({
    pattern: '^(?:[0-9a-f]{64}|[0-9a-f]{128}|[A-Za-z0-9_-]{43}|[A-Za-z0-9_-]{86})$',
    description: `${description}; hex or base64url of a SHA-256/SHA-512 digest`,
  });
}

/** One of a closed set of words. */
export function oneOf(values: readonly string[], description: string): TSchema {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    { description },
  );
}

/** A vendor score on a 0–100 scale (similarity, liveness): not a probability. */
export function score(description: string): TSchema {
  return Type.Number({ minimum: 0, maximum: 100, description });
}

/** A short machine-readable code (vendor reason codes, zone names). */
export function code(description: string, maxLength = 32): TSchema {
  return Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$', maxLength, description });
}

// ---------------------------------------------------------------------------------------------
// Deterministic sample helpers

/** Uniform number in [min, max), rounded to `decimals`. */
export function between(ctx: SampleContext, min: number, max: number, decimals = 2): number {
  const f = 10 ** decimals;
  const v = Math.round((min + ctx.rng() * (max - min)) * f) / f;
  return Math.min(max, Math.max(min, v));
}

/** Uniform integer in [min, max]. */
export function integerBetween(ctx: SampleContext, min: number, max: number): number {
  return Math.min(max, min + Math.floor(ctx.rng() * (max - min + 1)));
}

export function pick<T>(ctx: SampleContext, items: readonly [T, ...T[]]): T {
  return items[Math.min(items.length - 1, Math.floor(ctx.rng() * items.length))] as T;
}

/** Pick by weight: `[[weight, item], …]`. */
export function weighted<T>(ctx: SampleContext, choices: readonly (readonly [number, T])[]): T {
  const total = choices.reduce((s, [w]) => s + w, 0);
  let r = ctx.rng() * total;
  for (const [w, item] of choices) {
    r -= w;
    if (r < 0) return item;
  }
  const last = choices[choices.length - 1];
  if (!last) throw new Error('weighted() needs at least one choice');
  return last[1];
}

/** A value that wanders around a baseline between calls (kept in ctx.state under `key`). */
export function drift(ctx: SampleContext, key: string, spec: { start: number; step: number; min: number; max: number; decimals?: number }): number {
  const previous = typeof ctx.state[key] === 'number' ? (ctx.state[key] as number) : spec.start;
  const f = 10 ** (spec.decimals ?? 2);
  const next = Math.round(Math.min(spec.max, Math.max(spec.min, previous + (ctx.rng() * 2 - 1) * spec.step)) * f) / f;
  ctx.state[key] = next;
  return next;
}

/**
 * Battery level that decays with the device's clock, kept in ctx.state: starts between
 * `startMin` and 100 % and loses `drainPerDay` percent a day (a 10-year lithium cell ≈ 0.03).
 */
export function batteryLevel(ctx: SampleContext, drainPerDay = 0.03, startMin = 60): number {
  const s = ctx.state as { batteryPct?: number; batteryAt?: number };
  if (typeof s.batteryPct !== 'number' || typeof s.batteryAt !== 'number') {
    s.batteryPct = startMin + ctx.rng() * (100 - startMin);
    s.batteryAt = ctx.now;
  }
  const days = Math.max(0, ctx.now - s.batteryAt) / 86_400_000;
  s.batteryPct = Math.max(0, s.batteryPct - days * drainPerDay);
  s.batteryAt = Math.max(s.batteryAt, ctx.now);
  return Math.round(s.batteryPct);
}

/** Something chosen once per device and kept (its zone, its doors, its people). */
export function remember<T>(ctx: SampleContext, key: string, choose: () => T): T {
  if (!(key in ctx.state)) ctx.state[key] = choose();
  return ctx.state[key] as T;
}

/**
 * A stand-in for a salted SHA-256 digest (64 lowercase hex characters) derived from `text`, so a
 * sampled person keeps the same credential reference. Not a cryptographic hash: samples only.
 */
export function sampleDigest(text: string): string {
  let h = 0x811c9dc5;
  let out = '';
  for (let block = 0; block < 8; block++) {
    for (const ch of `${block}:${text}`) {
      h ^= ch.charCodeAt(0);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    out += h.toString(16).padStart(8, '0');
  }
  return out;
}

/** The common fields every sample carries: who, when and the de-duplication counter. */
export function stamp(ctx: SampleContext, body: JsonObject): JsonObject {
  return { deviceId: ctx.deviceId, ts: new Date(ctx.now).toISOString(), seq: ctx.seq, ...body };
}

/**
 * How often each signal class appears among sampled events. Mostly heartbeats and audit events,
 * rarely an alarm, so a simulated fleet looks like a quiet building and every type still shows up.
 */
export const EVENT_CLASS_WEIGHTS: Readonly<Record<SignalClass | 'heartbeat', number>> = Object.freeze({
  heartbeat: 70,
  info: 22,
  trouble: 5,
  supervisory: 2.5,
  alarm: 0.5,
});

/**
 * A sampled event: picks a class by EVENT_CLASS_WEIGHTS (skipping classes the kind lacks), a type
 * within it, and asks `attributes` for the type-specific fields.
 */
export function sampleEvent(
  ctx: SampleContext,
  events: readonly EventSpec[],
  attributes: (type: string, ctx: SampleContext) => JsonObject = () => ({}),
): JsonObject {
  const groups = new Map<string, EventSpec[]>();
  for (const e of events) {
    const group = e.type === 'heartbeat' ? 'heartbeat' : e.signalClass;
    groups.set(group, [...(groups.get(group) ?? []), e]);
  }
  const choices = [...groups.entries()].map(
    ([group, specs]) => [EVENT_CLASS_WEIGHTS[group as SignalClass | 'heartbeat'], specs] as const,
  );
  const specs = weighted(ctx, choices);
  const spec = pick(ctx, specs as [EventSpec, ...EventSpec[]]);
  return stamp(ctx, { type: spec.type, ...attributes(spec.type, ctx) });
}
