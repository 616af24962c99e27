/**
 * Flux building blocks shared by every generated query: the datasource reference, the bucket and
 * time range macros Grafana fills in (v.defaultBucket, v.timeRangeStart, v.timeRangeStop,
 * v.windowPeriod), and the filters that apply the dashboard's template variables.
 *
 * What gridwatch writes (gateway/src/adapters/influx/line-protocol.ts):
 *   {kind},building=…,device=…,floor=…,kind=… {measurement}=…,seq=…i
 *   device_event,building=…,class=…,device=…,floor=…,kind=…,type=… count=1i,seq=…i
 */
import type { DataSourceRef } from './model.js';

/** Fixed in dashboards/grafana/provisioning/datasources/gridwatch.yaml; every panel refers to it. */
export const DATASOURCE_UID = 'gridwatch-influx';
export const DATASOURCE: DataSourceRef = Object.freeze({ type: 'influxdb', uid: DATASOURCE_UID });

/** Events measurement (EVENT_MEASUREMENT in the line protocol adapter). */
export const EVENT_MEASUREMENT = 'device_event';
/** Grid case transitions, once cases are written to InfluxDB. */
export const CASE_MEASUREMENT = 'case_event';

/**
 * Placement tags that the line protocol may not carry yet. gridwatch writes `building` today;
 * `street`, `community` and `grid` filter where a point has them, so the dashboards work before
 * and after the gateway adds them (see dashboards/README.md).
 */
export const OPTIONAL_HIERARCHY = ['street', 'community', 'grid'] as const;
export type HierarchyVariable = (typeof OPTIONAL_HIERARCHY)[number] | 'building';

/** A tag compared with a template variable (multi-value, "All" = `.*`, so always a regex match). */
function matches(column: string, variable: string): string {
  return `r.${column} =~ /^\${${variable}:regex}$/`;
}

/**
 * A tag that may be absent: when the point has it, it must match; when it lacks it, it passes only
 * while the variable is "All" (`.*` matches the empty string, a chosen value does not).
 */
function matchesWhenPresent(column: string): string {
  return `(if exists r.${column} then r.${column} =~ /^\${${column}:regex}$/ else "" =~ /^\${${column}:regex}$/)`;
}

/** Regex-safe text for a Flux regex literal (kind ids and event types are plain already). */
export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, (c) => `\\${c}`);
}

/** `r._measurement =~ /^(a|b)$/` for a list of measurements. */
export function measurementIn(measurements: readonly string[]): string {
  if (measurements.length === 1) return `r._measurement == ${fluxString(measurements[0] ?? '')}`;
  return `r._measurement =~ /^(${measurements.map(escapeRegex).join('|')})$/`;
}

/** A Flux string literal. */
export function fluxString(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\$\{/g, '\\${')}"`;
}

export interface ScopeOptions {
  /** Filter on the `kind` and `device` variables too (placement-only dashboards leave them out). */
  readonly devices: boolean;
}

/**
 * Predicate parts restricting rows to what the template variables select. Plain tag comparisons
 * come first: InfluxDB pushes a filter right after range() down to the storage engine, which the
 * `exists` conditions would prevent.
 */
export function scopeConditions(options: ScopeOptions): string[] {
  const parts = [matches('building', 'building')];
  if (options.devices) parts.push(matches('kind', 'kind'), matches('device', 'device'));
  return [...parts, ...OPTIONAL_HIERARCHY.map(matchesWhenPresent)];
}

/** `|> filter(...)` lines applying the template variables. */
export function scopeFilter(options: ScopeOptions = { devices: true }): string {
  return scopeConditions(options)
    .map((c) => `  |> filter(fn: (r) => ${c})`)
    .join('\n');
}

/** The start of every panel query: the datasource's bucket over the dashboard's time range. */
export function fromRange(): string {
  return 'from(bucket: v.defaultBucket)\n  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)';
}

/** Joins pipeline steps, one per line, the way Grafana's editor shows Flux. */
export function pipeline(head: string, ...steps: readonly string[]): string {
  return [head, ...steps.map((s) => (s.startsWith('  |>') ? s : `  |> ${s}`))].join('\n');
}

/**
 * Tag values for a template variable, narrowed by the variables above it in the hierarchy
 * (street → community → grid → building → kind → device).
 */
export function tagValuesQuery(tag: string, conditions: readonly string[]): string {
  const predicate = conditions.length === 0 ? '(r) => true' : `(r) => ${conditions.join(' and ')}`;
  return [
    'import "influxdata/influxdb/schema"',
    '',
    'schema.tagValues(',
    '  bucket: v.defaultBucket,',
    `  tag: ${fluxString(tag)},`,
    `  predicate: ${predicate},`,
    '  start: v.timeRangeStart,',
    '  stop: v.timeRangeStop,',
    ')',
  ].join('\n');
}

/** Conditions for the variables above `variable` in the chain. */
export function conditionsAbove(variable: HierarchyVariable | 'kind' | 'device'): string[] {
  const chain = [...OPTIONAL_HIERARCHY, 'building', 'kind', 'device'] as const;
  const above = chain.slice(0, chain.indexOf(variable));
  return above.map((v) => ((OPTIONAL_HIERARCHY as readonly string[]).includes(v) ? matchesWhenPresent(v) : matches(v, v)));
}
