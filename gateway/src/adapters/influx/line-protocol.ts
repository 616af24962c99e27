/**
 * Readings and events as InfluxDB line protocol (docs.influxdata.com, "Line protocol reference").
 *
 * Schema, chosen so series cardinality stays bounded by the device count:
 *   {kind},building=…,community=…,device=…,floor=…,grid=…,kind=…,street=… {measurement}=…,seq=…i {ts ms}
 *   device_event,building=…,class=…,community=…,device=…,floor=…,grid=…,kind=…,street=…,type=… count=1i,seq=…i {ts ms}
 *   alert_event,building=…,class=…,community=…,event=…,grid=…,kind=…,street=…,type=… count=1i,escalation_level=…i,state=…i {ts ms}
 *   case_event,building=…,category=…,community=…,event=…,grid=…,street=…,urgency=… count=1i,overdue=0|1i,state=…i {ts ms}
 * Tags are only registry values with a bounded set (no seq, person, attribute values); grid,
 * community and street are written when the registry places the building. Field types
 * never change for a field: a kind's integer measurements are always `…i`, every other measurement
 * is always a float (`21.0`, never `21`), because InfluxDB refuses a point whose field type differs
 * from the type already stored in that shard. Event attributes are not written: they are unbounded
 * strings and stay in the embedded store and the live event stream.
 * Timestamps are the device's, in milliseconds (write with precision=ms); a point re-sent with the
 * same series and timestamp overwrites itself, which is what makes replay idempotent.
 */
import type { KindDefinition } from '../../domain/kind.js';
import type { AlertChange, AlertState } from '../../domain/alerts/types.js';
import type { CaseChange, CaseState } from '../../domain/cases/types.js';
import type { DeviceEvent, HierarchyPlace, Reading } from '../../domain/message.js';

export const EVENT_MEASUREMENT = 'device_event';
export const ALERT_MEASUREMENT = 'alert_event';
export const CASE_MEASUREMENT = 'case_event';

/**
 * Alert states as numbers: VictoriaMetrics (and Grafana's numeric panels) cannot hold a string
 * field, so `state` is written as this code. Never renumber: stored points keep their codes.
 */
export const ALERT_STATE_CODES: Readonly<Record<AlertState, number>> = Object.freeze({
  normal: 0,
  active_unack: 1,
  active_ack: 2,
  returned_unack: 3,
});

/**
 * Case states as numbers, for the same reason, in lifecycle order (domain/cases/types.ts): the
 * open states 1–10, then the final ones. Never renumber: stored points keep their codes.
 */
export const CASE_STATE_CODES: Readonly<Record<CaseState, number>> = Object.freeze({
  reported: 1,
  verifying: 2,
  registered: 3,
  dispatched: 4,
  returned: 5,
  accepted: 6,
  handling: 7,
  feedback: 8,
  checking: 9,
  rework: 10,
  closed: 11,
  evaluated: 12,
  cancelled: 13,
});

/** Finds a kind's declaration; the gateway's `kindById`. */
export type KindLookup = (kindId: string) => KindDefinition | undefined;

// Escaping per the line protocol reference, "Special characters":
//   measurement: comma, space;  tag keys/values and field keys: comma, equals sign, space
//   (no string fields are written). Backslashes are literal (InfluxDB
//   unescapes only the listed characters), and cannot occur anyway in ids that follow
//   ENTITY_ID_PATTERN. Newlines cannot be escaped at all, so they (and other control characters)
//   are replaced: a newline would split the point in two.
// eslint-disable-next-line no-control-regex -- matching control characters is the point here
const CONTROL = /[\u0000-\u001f\u007f]/g;

export function escapeMeasurement(name: string): string {
  return name.replace(CONTROL, ' ').replace(/[, ]/g, (c) => `\\${c}`);
}

export function escapeKey(key: string): string {
  return key.replace(CONTROL, ' ').replace(/[,= ]/g, (c) => `\\${c}`);
}

/** Tag values escape like keys. */
export const escapeTagValue = escapeKey;

/** A float that always reads back as a float: `21` → `21.0`; exponent forms are floats already. */
export function formatFloat(value: number): string {
  const text = String(value);
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

/**
 * Integer fields carry the `i` suffix; a fractional value (never valid for the kind) is rounded.
 * Null past ±2^53: such a value is not what the device sent, and past int64 the database would
 * refuse the whole batch.
 */
export function formatInteger(value: number): string | null {
  const n = Math.round(value);
  return Number.isSafeInteger(n) ? `${n}i` : null;
}

function tagSet(tags: Record<string, string | null>): string {
  let out = '';
  // Sorted by key, as the reference recommends for write performance (Go bytes.Compare order).
  for (const key of Object.keys(tags).sort()) {
    const value = tags[key];
    // Empty tag values are not allowed: the tag is left out instead.
    if (value === null || value === undefined || value === '') continue;
    out += `,${escapeKey(key)}=${escapeTagValue(value)}`;
  }
  return out;
}

/** grid, community and street: left out (not empty) when the registry does not place the building. */
function hierarchyTags(p: HierarchyPlace | undefined): Record<string, string | null> {
  return { grid: p?.gridId ?? null, community: p?.communityId ?? null, street: p?.streetId ?? null };
}

function placementTags(p: { buildingId: string; deviceId: string; floor: number | null; kind: string } & HierarchyPlace): Record<string, string | null> {
  return {
    building: p.buildingId,
    device: p.deviceId,
    floor: p.floor === null ? null : String(p.floor),
    kind: p.kind,
    ...hierarchyTags(p),
  };
}

/**
 * One line for a reading, or null when it has no finite value to write (line protocol requires at
 * least one field, and NaN/Infinity are not representable).
 */
export function readingToLine(reading: Reading, kindById?: KindLookup): string | null {
  const kind = kindById?.(reading.kind);
  const fields: string[] = [];
  for (const name of Object.keys(reading.values).sort()) {
    const value = reading.values[name];
    if (value === undefined || !Number.isFinite(value)) continue;
    const integer = kind?.measurementsByName.get(name)?.integer === true;
    const text = integer ? formatInteger(value) : formatFloat(value);
    if (text !== null) fields.push(`${escapeKey(name)}=${text}`);
  }
  if (fields.length === 0) return null;
  // 'seq' is a reserved field name in every kind (domain/kind.ts), so it cannot collide.
  const seq = reading.seq === null ? null : formatInteger(reading.seq);
  if (seq !== null) fields.push(`seq=${seq}`);
  return `${escapeMeasurement(reading.kind)}${tagSet(placementTags(reading))} ${fields.join(',')} ${Math.trunc(reading.ts)}`;
}

/** One line per event: `count=1i` so sums count events, plus seq when the device sent one. */
export function eventToLine(event: DeviceEvent): string {
  const tags = { ...placementTags(event), type: event.type, class: event.signalClass };
  const fields = ['count=1i'];
  const seq = event.seq === null ? null : formatInteger(event.seq);
  if (seq !== null) fields.push(`seq=${seq}`);
  return `${EVENT_MEASUREMENT}${tagSet(tags)} ${fields.join(',')} ${Math.trunc(event.ts)}`;
}

/**
 * One line per alert state change (an AlertChange: one history entry), so Grafana can chart
 * raises, acknowledgements, escalations and clears per building and hierarchy level.
 * Tags: building, grid, community, street (from `place`), kind, type, class, event (the history
 * entry: raised, acknowledged, escalated, cleared…). No device or alert id tag: the tags stay
 * bounded by buildings × rule types × events; the alert itself is in the API.
 * Fields: count=1i (sum it to count changes), escalation_level (0–3), state (ALERT_STATE_CODES).
 * Timestamp: the gateway time of the history entry (ms). Two changes with the same tags in the
 * same millisecond overwrite each other (same series and time), as for device events.
 */
export function alertChangeToLine(change: AlertChange, place?: HierarchyPlace): string {
  const { alert } = change;
  const last = alert.history[alert.history.length - 1];
  const at = last !== undefined && last.event === change.event ? last.at : alert.lastSeenAt;
  const tags = {
    building: alert.source.buildingId,
    kind: alert.source.kind,
    type: alert.type,
    class: alert.signalClass,
    event: change.event,
    ...hierarchyTags(place),
  };
  const level = formatInteger(alert.escalationLevel) ?? '0i';
  const fields = `count=1i,escalation_level=${level},state=${ALERT_STATE_CODES[alert.state] ?? 0}i`;
  return `${ALERT_MEASUREMENT}${tagSet(tags)} ${fields} ${Math.trunc(at)}`;
}

/**
 * One line per committed case change (a CaseChange: one history entry — opened, a transition such
 * as accept or close, linked, reopened, overdue, overdue_escalated…), so Grafana can chart cases
 * opened and closed per period, overdue cases and cases by category.
 * Tags: building, grid, community, street (from `place` when given — the same cached registry
 * place the readings carry — else from the case itself), category, urgency, event (the history
 * entry's action). No case id, code, person or title tag: bounded by buildings × categories ×
 * actions; the case itself is in the API.
 * Fields: count=1i (sum it to count changes), state (CASE_STATE_CODES, after the change),
 * overdue 1i when the case is open with a step deadline unmet and passed at the time of the
 * change, else 0i.
 * Timestamp: the gateway time of the history entry (ms). Two changes with the same tags in the
 * same millisecond overwrite each other (same series and time), as for alert events.
 */
export function caseChangeToLine(change: CaseChange, place?: HierarchyPlace): string {
  const c = change.case;
  const last = c.history[c.history.length - 1];
  const at = last !== undefined && last.action === change.action ? last.at : c.updatedAt;
  const tags = {
    building: c.buildingId,
    category: c.category,
    urgency: c.urgency,
    event: change.action,
    ...hierarchyTags(place ?? { ...(c.gridId === null ? {} : { gridId: c.gridId }), ...(c.communityId === null ? {} : { communityId: c.communityId }), ...(c.streetId === null ? {} : { streetId: c.streetId }) }),
  };
  const final = c.state === 'cancelled' || c.state === 'closed' || c.state === 'evaluated';
  const overdue = !final && Object.values(c.deadlines).some((d) => d !== null && d.metAt === null && d.dueAt < at);
  const fields = `count=1i,overdue=${overdue ? 1 : 0}i,state=${CASE_STATE_CODES[c.state] ?? 0}i`;
  return `${CASE_MEASUREMENT}${tagSet(tags)} ${fields} ${Math.trunc(at)}`;
}

/** Lines for a batch of readings, skipping those with nothing writable. */
export function readingsToLines(readings: readonly Reading[], kindById?: KindLookup): string[] {
  const lines: string[] = [];
  for (const r of readings) {
    const line = readingToLine(r, kindById);
    if (line !== null) lines.push(line);
  }
  return lines;
}

export function eventsToLines(events: readonly DeviceEvent[]): string[] {
  return events.map(eventToLine);
}
