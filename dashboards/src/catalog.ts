/**
 * Every generated dashboard, built from a list of kinds (the registry's KINDS in production, an
 * extended list in tests), with the file name each is written to.
 */
import type { KindDefinition } from '../../gateway/src/domain/kind.js';
import { accessDashboard } from './boards/access.js';
import { casesDashboard } from './boards/cases.js';
import { deviceHealthDashboard } from './boards/device-health.js';
import { hazardsDashboard } from './boards/hazards.js';
import { kindsDashboard } from './boards/kinds.js';
import { overviewDashboard } from './boards/overview.js';
import type { Dashboard } from './model.js';

export interface GeneratedDashboard {
  /** File name under dashboards/grafana/dashboards/. */
  readonly file: string;
  readonly dashboard: Dashboard;
}

export function buildDashboards(kinds: readonly KindDefinition[]): GeneratedDashboard[] {
  return [
    { file: 'building-overview.json', dashboard: overviewDashboard(kinds) },
    { file: 'hazards-alerts.json', dashboard: hazardsDashboard(kinds) },
    { file: 'device-health.json', dashboard: deviceHealthDashboard(kinds) },
    { file: 'access-events.json', dashboard: accessDashboard(kinds) },
    { file: 'kinds.json', dashboard: kindsDashboard(kinds) },
    { file: 'case-kpis.json', dashboard: casesDashboard() },
  ];
}

/** The exact bytes written for a dashboard: stable key order, two-space indent, final newline. */
export function renderDashboard(d: Dashboard): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

/** File name → content, for every dashboard. */
export function renderDashboards(kinds: readonly KindDefinition[]): Map<string, string> {
  return new Map(buildDashboards(kinds).map((g) => [g.file, renderDashboard(g.dashboard)]));
}
