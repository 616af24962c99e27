/** Helpers for reading dashboard JSON in tests: files on disk, panels (rows included), strings. */
import { readFileSync, readdirSync } from 'node:fs';
import YAML from 'yaml';

export const root = new URL('../../../', import.meta.url);
export const dashboardsDir = new URL('dashboards/grafana/dashboards/', root);
export const provisioningDir = new URL('dashboards/grafana/provisioning/', root);

export type Json = Record<string, unknown>;

export function committedDashboards(): { file: string; text: string }[] {
  return readdirSync(dashboardsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, text: readFileSync(new URL(file, dashboardsDir), 'utf8') }));
}

/** Every panel, with the panels of collapsed rows. */
export function allPanels(dashboard: Json): Json[] {
  const out: Json[] = [];
  for (const p of (dashboard.panels ?? []) as Json[]) {
    out.push(p);
    for (const nested of (p.panels ?? []) as Json[]) out.push(nested);
  }
  return out;
}

/** Every string anywhere in a JSON value. */
export function allStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) allStrings(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) allStrings(v, out);
  return out;
}

/** Every object anywhere in a JSON value that has property `key`. */
export function objectsWith(value: unknown, key: string, out: Json[] = []): Json[] {
  if (Array.isArray(value)) for (const v of value) objectsWith(v, key, out);
  else if (value && typeof value === 'object') {
    if (key in value) out.push(value as Json);
    for (const v of Object.values(value)) objectsWith(v, key, out);
  }
  return out;
}

/**
 * Template variables a text refers to: `$var`, `${var}`, `${var:format}`, `[[var]]`. Grafana's
 * built-ins (`$__all`, `${__field.labels.x}`) start with two underscores and are left out.
 */
export function variableReferences(text: string): string[] {
  const names = new Set<string>();
  for (const re of [/\$\{([A-Za-z0-9_]+)[^}]*\}/g, /\[\[([A-Za-z0-9_]+)(?::[^\]]*)?\]\]/g, /\$([A-Za-z_][A-Za-z0-9_]*)/g]) {
    for (const m of text.matchAll(re)) if (m[1] && !m[1].startsWith('__')) names.add(m[1]);
  }
  return [...names];
}

/** Datasource uids declared by the provisioning file. */
export function provisionedDatasourceUids(): Set<string> {
  const file = YAML.parse(readFileSync(new URL('datasources/gridwatch.yaml', provisioningDir), 'utf8')) as {
    datasources: { uid: string }[];
  };
  return new Set(file.datasources.map((d) => d.uid));
}
