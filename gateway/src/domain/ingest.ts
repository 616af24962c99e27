/**
 * The ingest decision, pure: given a topic, a payload, who published it and when, decide whether it
 * is accepted (and what it becomes) or rejected (and why). No I/O, no timers; the app layer does
 * the counting, storing and dead-lettering around it.
 *
 * Order of checks is deliberate: identity (topic, device) before content, so a spoofed or unknown
 * publisher is reported as such even when its payload is also broken.
 */
import { FormatRegistry } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { KindDefinition } from './kind.js';
import type { Accepted, AttributeValue, Channel, HierarchyPlace, Placement } from './message.js';
import { reject, type Rejection } from './rejection.js';
import type { Device } from './site.js';

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** TypeBox validates string formats only once they are registered; every schema here uses 'date-time'. */
export function registerFormats(): void {
  if (!FormatRegistry.Has('date-time')) {
    FormatRegistry.Set('date-time', (value) => ISO_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)));
  }
}

export interface IngestLimits {
  readonly maxPayloadBytes: number;
  /** Device clocks ahead of the gateway by more than this are rejected (timestamp_future). */
  readonly maxFutureSkewMs: number;
  /** Readings older than this are rejected (timestamp_past): buffered data older than retention is noise. */
  readonly maxPastAgeMs: number;
  /** Recent (seq, ts) keys remembered per device and channel for duplicate detection. */
  readonly dedupWindow: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  maxPayloadBytes: 64 * 1024,
  maxFutureSkewMs: 5 * 60_000,
  maxPastAgeMs: 30 * 24 * 3600_000,
  dedupWindow: 64,
};

export interface RawMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  /**
   * The authenticated publisher (embedded broker), or null when an external broker already
   * enforced device identity and the topic is the only source of it.
   */
  readonly publisher: string | null;
  readonly receivedAt: number;
}

export type IngestOutcome =
  | { readonly ok: true; readonly accepted: Accepted }
  | { readonly ok: false; readonly rejection: Rejection; readonly deviceId: string | null; readonly channel: Channel | null };

export interface IngestDirectory {
  device(id: string): Device | undefined;
  kind(id: string): KindDefinition | undefined;
  /**
   * The grid, community and street above a building, for the hierarchy tags of the time series.
   * Optional: without it messages carry the building only. Asked once per building (the answer
   * is cached, see Ingest.forgetPlaces), so it may walk the registry.
   */
  place?(buildingId: string): HierarchyPlace | undefined;
}

interface CompiledKind {
  readonly telemetry: TypeCheck<KindDefinition['telemetrySchema']>;
  readonly event: TypeCheck<KindDefinition['eventSchema']>;
}

const COMMON_FIELDS = new Set(['deviceId', 'ts', 'seq', 'raw', 'type']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

export class Ingest {
  private readonly compiled = new Map<string, CompiledKind>();
  private readonly recent = new Map<string, RecentKeys>();
  /** buildingId → its place (null: the directory knows none). Bounded by the registry's buildings. */
  private readonly places = new Map<string, HierarchyPlace | null>();

  constructor(
    private readonly directory: IngestDirectory,
    private readonly limits: IngestLimits = DEFAULT_INGEST_LIMITS,
    private readonly topicRoot = 'gridwatch/v1',
  ) {
    registerFormats();
  }

  decode(message: RawMessage): IngestOutcome {
    const route = parseTopic(message.topic, this.topicRoot);
    if (route === null) return fail(reject('topic_invalid', `topic '${printable(message.topic)}'`), message.publisher, null);
    const { deviceId, channel } = route;
    if (message.publisher !== null && message.publisher !== deviceId) {
      return fail(reject('topic_device_mismatch', `publisher '${message.publisher}' wrote to '${deviceId}'`), message.publisher, channel);
    }
    const device = this.directory.device(deviceId);
    if (device === undefined) return fail(reject('unknown_device', `device '${deviceId}'`), deviceId, channel);
    if (device.disabled) return fail(reject('device_disabled'), deviceId, channel);
    const kind = this.directory.kind(device.kind);
    if (kind === undefined) return fail(reject('unknown_kind', `kind '${device.kind}'`), deviceId, channel);
    if (message.payload.byteLength > this.limits.maxPayloadBytes) {
      return fail(reject('oversize_payload', `${message.payload.byteLength} bytes > ${this.limits.maxPayloadBytes}`), deviceId, channel);
    }
    let text: string;
    try {
      text = utf8.decode(message.payload);
    } catch {
      return fail(reject('invalid_utf8'), deviceId, channel);
    }
    const place = this.place(device.buildingId);
    const placement: Placement =
      place === undefined
        ? { deviceId, kind: kind.id, buildingId: device.buildingId, floor: device.floor }
        : { ...place, deviceId, kind: kind.id, buildingId: device.buildingId, floor: device.floor };

    if (channel === 'status') {
      const status = parseStatus(text);
      if (status === null) return fail(reject('schema_violation', "status must be 'online' or 'offline'"), deviceId, channel);
      return { ok: true, accepted: { channel, status: { ...placement, status, receivedAt: message.receivedAt } } };
    }

    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return fail(reject('malformed_json', (err as Error).message.slice(0, 200)), deviceId, channel);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return fail(reject('malformed_json', 'payload must be a JSON object'), deviceId, channel);
    }
    const checks = this.compile(kind);
    const check = channel === 'telemetry' ? checks.telemetry : checks.event;
    if (!check.Check(body)) {
      const first = check.Errors(body).First();
      const detail = first ? `${first.path || '/'}: ${first.message}` : 'does not match';
      return fail(reject('schema_violation', detail), deviceId, channel);
    }
    const fields = body as Record<string, unknown>;
    if (typeof fields.deviceId === 'string' && fields.deviceId !== deviceId) {
      return fail(reject('device_id_mismatch', `payload deviceId '${fields.deviceId}'`), deviceId, channel);
    }
    const deviceTs = fields.ts === undefined ? null : toEpochMs(fields.ts as string | number);
    const ts = deviceTs ?? message.receivedAt;
    if (ts - message.receivedAt > this.limits.maxFutureSkewMs) {
      return fail(reject('timestamp_future', `ts ${new Date(ts).toISOString()} is ${Math.round((ts - message.receivedAt) / 1000)} s ahead`), deviceId, channel);
    }
    if (message.receivedAt - ts > this.limits.maxPastAgeMs) {
      return fail(reject('timestamp_past', `ts ${new Date(ts).toISOString()} is older than the accepted age`), deviceId, channel);
    }
    const seq = typeof fields.seq === 'number' ? fields.seq : null;
    // Without seq or ts a message carries no identity, so nothing can be called a redelivery.
    if ((seq !== null || deviceTs !== null) && this.seen(`${deviceId}\u0000${channel}`, `${seq ?? ''}@${deviceTs ?? ''}`)) {
      return fail(reject('duplicate', `seq ${seq ?? '-'} ts ${deviceTs ?? '-'}`), deviceId, channel);
    }
    const receivedAt = message.receivedAt;

    if (channel === 'telemetry') {
      const values: Record<string, number> = {};
      for (const m of kind.measurements) {
        const v = fields[m.name];
        if (typeof v === 'number') values[m.name] = v;
      }
      return { ok: true, accepted: { channel, reading: { ...placement, ts, receivedAt, seq, values } } };
    }
    const type = fields.type as string;
    const spec = kind.eventsByType.get(type);
    if (spec === undefined) return fail(reject('schema_violation', `/type: '${type}' is not an event of kind '${kind.id}'`), deviceId, channel);
    const attrs: Record<string, AttributeValue> = {};
    for (const [name, value] of Object.entries(fields)) {
      if (COMMON_FIELDS.has(name)) continue;
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') attrs[name] = value;
      else if (value !== null && value !== undefined) attrs[name] = JSON.stringify(value);
    }
    if (fields.raw !== undefined) {
      // JSON.parse nests as deep as 64 KiB allows, JSON.stringify recurses and runs out of stack
      // long before: a vendor blob nested that deep is bad input, not a decoder fault.
      try {
        attrs.raw = JSON.stringify(fields.raw);
      } catch {
        return fail(reject('schema_violation', '/raw: nested too deeply'), deviceId, channel);
      }
    }
    return {
      ok: true,
      accepted: { channel, event: { ...placement, ts, receivedAt, seq, type, signalClass: spec.signalClass, attrs } },
    };
  }

  /**
   * The building's place in the hierarchy, cached per building so the hot path does one map
   * lookup, not a registry walk per message. Undefined when the directory has no `place` or
   * knows none for the building.
   */
  place(buildingId: string): HierarchyPlace | undefined {
    const cached = this.places.get(buildingId);
    if (cached !== undefined) return cached ?? undefined;
    if (this.directory.place === undefined) return undefined;
    let found: HierarchyPlace | undefined;
    try {
      found = this.directory.place(buildingId);
    } catch {
      // A failing lookup costs the tags of this message, not the message; asked again next time.
      return undefined;
    }
    const place = found === undefined ? null : compactPlace(found);
    this.places.set(buildingId, place);
    return place ?? undefined;
  }

  /** Drops cached places (all, or one building's): call after the hierarchy changed. */
  forgetPlaces(buildingId?: string): void {
    if (buildingId === undefined) this.places.clear();
    else this.places.delete(buildingId);
  }

  private compile(kind: KindDefinition): CompiledKind {
    let compiled = this.compiled.get(kind.id);
    if (compiled === undefined) {
      compiled = { telemetry: TypeCompiler.Compile(kind.telemetrySchema), event: TypeCompiler.Compile(kind.eventSchema) };
      this.compiled.set(kind.id, compiled);
    }
    return compiled;
  }

  /** True when `key` was already accepted recently on this stream; remembers it otherwise. */
  private seen(stream: string, key: string): boolean {
    let recent = this.recent.get(stream);
    if (recent === undefined) {
      recent = new RecentKeys(this.limits.dedupWindow);
      this.recent.set(stream, recent);
    }
    return !recent.add(key);
  }
}

/** Only the levels that are known, frozen: shared by every message from the building. */
function compactPlace(place: HierarchyPlace): HierarchyPlace | null {
  const out: { gridId?: string; communityId?: string; streetId?: string } = {};
  if (typeof place.gridId === 'string' && place.gridId !== '') out.gridId = place.gridId;
  if (typeof place.communityId === 'string' && place.communityId !== '') out.communityId = place.communityId;
  if (typeof place.streetId === 'string' && place.streetId !== '') out.streetId = place.streetId;
  return Object.keys(out).length === 0 ? null : Object.freeze(out);
}

/** A fixed-size ring of recent keys with O(1) membership. */
class RecentKeys {
  private readonly ring: (string | undefined)[];
  private readonly members = new Set<string>();
  private next = 0;

  constructor(size: number) {
    this.ring = new Array<string | undefined>(Math.max(1, size));
  }

  /** Adds the key; false when it was already present. */
  add(key: string): boolean {
    if (this.members.has(key)) return false;
    const evicted = this.ring[this.next];
    if (evicted !== undefined) this.members.delete(evicted);
    this.ring[this.next] = key;
    this.members.add(key);
    this.next = (this.next + 1) % this.ring.length;
    return true;
  }
}

export interface TopicRoute {
  readonly deviceId: string;
  readonly channel: Channel;
}

/** `{root}/{deviceId}/{telemetry|event|status}`; anything else (wildcards, extra levels) is null. */
export function parseTopic(topic: string, root = 'gridwatch/v1'): TopicRoute | null {
  if (!topic.startsWith(`${root}/`)) return null;
  const rest = topic.slice(root.length + 1);
  const slash = rest.indexOf('/');
  if (slash <= 0) return null;
  const deviceId = rest.slice(0, slash);
  const channel = rest.slice(slash + 1);
  if (channel !== 'telemetry' && channel !== 'event' && channel !== 'status') return null;
  // eslint-disable-next-line no-control-regex -- NUL in a topic level is exactly what is being refused
  if (/[+#\u0000\s]/.test(deviceId) || deviceId === '.' || deviceId === '..') return null;
  return { deviceId, channel };
}

function parseStatus(text: string): 'online' | 'offline' | null {
  const trimmed = text.trim();
  if (trimmed === 'online' || trimmed === 'offline') return trimmed;
  if (!trimmed.startsWith('{')) return null;
  try {
    const value = (JSON.parse(trimmed) as { status?: unknown }).status;
    return value === 'online' || value === 'offline' ? value : null;
  } catch {
    return null;
  }
}

function toEpochMs(ts: string | number): number {
  return typeof ts === 'number' ? ts : Date.parse(ts);
}

/** Topic text for a log line: bounded, control characters made visible. */
function printable(text: string): string {
  const clipped = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  // eslint-disable-next-line no-control-regex -- control characters are what must be made visible
  return clipped.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function fail(rejection: Rejection, deviceId: string | null, channel: Channel | null): IngestOutcome {
  return { ok: false, rejection, deviceId, channel };
}
