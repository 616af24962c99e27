/** The envelope shared by every generated dashboard: tags, time range, links, schema version. */
import { SCHEMA_VERSION, type Dashboard, type Panel, type Variable } from './model.js';

/** Every generated dashboard carries this tag; the dashboard links list them by it. */
export const DASHBOARD_TAG = 'gridwatch';

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly variables: readonly Variable[];
  readonly panels: readonly Panel[];
  readonly time?: { readonly from: string; readonly to: string };
}

export function dashboard(spec: DashboardSpec): Dashboard {
  return {
    id: null,
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: [DASHBOARD_TAG, ...spec.tags],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    fiscalYearStartMonth: 0,
    liveNow: false,
    refresh: '30s',
    schemaVersion: SCHEMA_VERSION,
    // Constant: the JSON is regenerated, not edited, so it has no revision history of its own.
    version: 1,
    weekStart: '',
    time: spec.time ?? { from: 'now-6h', to: 'now' },
    timepicker: { refresh_intervals: ['10s', '30s', '1m', '5m', '15m', '1h'] },
    templating: { list: spec.variables },
    annotations: { list: [] },
    links: [
      {
        title: 'gridwatch',
        type: 'dashboards',
        tags: [DASHBOARD_TAG],
        asDropdown: true,
        includeVars: true,
        keepTime: true,
        icon: 'external link',
        targetBlank: false,
        tooltip: '',
        url: '',
      },
    ],
    panels: spec.panels,
  };
}
