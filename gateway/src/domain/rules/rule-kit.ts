/**
 * Small helpers the rule factories share: parameter schemas, reading a message, and wording a
 * detail the way a building captain reads it ("Temperature 58.2 °C, floor 3").
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { Accepted, DeviceEvent } from '../message.js';

/** A number parameter with its bounds and meaning (the bounds are what overrides are checked against). */
export function num(minimum: number, maximum: number, description: string): TSchema {
  return Type.Number({ minimum, maximum, description });
}

export function int(minimum: number, maximum: number, description: string): TSchema {
  return Type.Integer({ minimum, maximum, description });
}

export function bool(description: string): TSchema {
  return Type.Boolean({ description });
}

export function params(properties: Record<string, TSchema>) {
  return Type.Object(properties, { additionalProperties: false });
}

/** Device time of a message when it has one (telemetry, event), else the gateway time. */
export function messageAt(accepted: Accepted, now: number): number {
  if (accepted.channel === 'telemetry') return accepted.reading.ts;
  if (accepted.channel === 'event') return accepted.event.ts;
  return now;
}

/** Data proves a device works (domain.md §3): telemetry and events, not the connection status. */
export function isData(accepted: Accepted): boolean {
  return accepted.channel !== 'status';
}

export function eventOf(accepted: Accepted, types: readonly string[]): DeviceEvent | null {
  return accepted.channel === 'event' && types.includes(accepted.event.type) ? accepted.event : null;
}

export function valueOf(accepted: Accepted, measurement: string): number | null {
  if (accepted.channel !== 'telemetry') return null;
  const v = accepted.reading.values[measurement];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function attr(event: DeviceEvent, name: string): string | null {
  const v = event.attrs[name];
  return v === undefined ? null : String(v);
}

/** Up to `digits` decimals, without trailing zeros: 58.2, 0.18, 70. */
export function fmt(value: number, digits = 2): string {
  return String(Number(value.toFixed(digits)));
}

/** Seconds in words: 45 s, 3 min, 2 h 5 min. */
export function duration(seconds: number): string {
  if (seconds < 120) return `${fmt(seconds, 1)} s`;
  const min = Math.round(seconds / 60);
  if (min < 120) return `${min} min`;
  const h = Math.floor(min / 60);
  return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
}

const PLACES: ReadonlyArray<readonly [string, string]> = [
  ['doorId', 'door'],
  ['readerId', 'reader'],
  ['gateId', 'gate'],
  ['zone', 'zone'],
  ['channel', 'channel'],
];

/** "door D1, reader R1" from an event's attributes, or '' when it names no place. */
export function eventPlace(event: DeviceEvent): string {
  const parts: string[] = [];
  for (const [name, word] of PLACES) {
    const v = attr(event, name);
    if (v !== null) parts.push(`${word} ${v}`);
  }
  return parts.join(', ');
}

/** Joins non-empty parts with ', '. */
export function words(...parts: ReadonlyArray<string | null | undefined | false>): string {
  return parts.filter((p): p is string => typeof p === 'string' && p.length > 0).join(', ');
}

/** Event attributes worth carrying on the signal (all of them are already validated by the kind). */
export function eventAttrs(event: DeviceEvent): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(event.attrs)) if (k !== 'raw') out[k] = v;
  return out;
}
