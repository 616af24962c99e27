/**
 * The part of Grafana's dashboard JSON model that gridwatch generates (schemaVersion 39 and
 * later; Grafana 11 reads it without migration). Written by hand instead of depending on
 * @grafana/schema: these types cover only the fields the generator emits, and every field name
 * and value follows the model as Grafana documents it ("JSON model" in the dashboards docs).
 */

/** The schema version the generated JSON is written for (Grafana 10.4 / 11). */
export const SCHEMA_VERSION = 39;

export interface DataSourceRef {
  readonly type: string;
  readonly uid: string;
}

/** Panel position on the 24-column grid; h is in grid rows of 30 px. */
export interface GridPos {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** One Flux query of the InfluxDB datasource. */
export interface FluxTarget {
  readonly refId: string;
  readonly datasource: DataSourceRef;
  readonly query: string;
}

export interface ThresholdStep {
  readonly color: string;
  /** The first step is the base and has no value (JSON null). */
  readonly value: number | null;
}

export interface ValueMapping {
  readonly type: 'value';
  readonly options: Readonly<Record<string, { readonly text?: string; readonly color?: string; readonly index: number }>>;
}

export interface FieldDefaults {
  readonly unit?: string;
  readonly min?: number;
  readonly max?: number;
  readonly decimals?: number;
  readonly displayName?: string;
  readonly noValue?: string;
  readonly color?: { readonly mode: string; readonly fixedColor?: string };
  readonly thresholds?: { readonly mode: 'absolute' | 'percentage'; readonly steps: readonly ThresholdStep[] };
  readonly mappings?: readonly ValueMapping[];
  readonly custom?: Readonly<Record<string, unknown>>;
}

export interface FieldOverride {
  readonly matcher: { readonly id: string; readonly options: string };
  readonly properties: readonly { readonly id: string; readonly value: unknown }[];
}

export interface FieldConfig {
  readonly defaults: FieldDefaults;
  readonly overrides: readonly FieldOverride[];
}

interface PanelBase {
  readonly id: number;
  readonly title: string;
  readonly gridPos: GridPos;
}

/** A panel that queries the datasource. */
export interface DataPanel extends PanelBase {
  readonly type: 'timeseries' | 'stat' | 'table' | 'bargauge';
  readonly description?: string;
  readonly datasource: DataSourceRef;
  readonly targets: readonly FluxTarget[];
  readonly fieldConfig: FieldConfig;
  readonly options: Readonly<Record<string, unknown>>;
  readonly transformations?: readonly { readonly id: string; readonly options: Readonly<Record<string, unknown>> }[];
}

export interface TextPanel extends PanelBase {
  readonly type: 'text';
  readonly options: { readonly mode: 'markdown'; readonly content: string };
}

/** A row header; its panels follow it in the panel list while it is expanded. */
export interface RowPanel extends PanelBase {
  readonly type: 'row';
  readonly collapsed: boolean;
  readonly panels: readonly Panel[];
}

export type Panel = DataPanel | TextPanel | RowPanel;

export interface VariableOption {
  readonly text: string;
  readonly value: string;
  readonly selected: boolean;
}

interface VariableBase {
  readonly name: string;
  readonly label: string;
  readonly description?: string;
  /** 0 shows label and value, 1 hides the label, 2 hides the variable. */
  readonly hide: 0 | 1 | 2;
  readonly multi: boolean;
  readonly includeAll: boolean;
  /** Sent instead of the list of values when "All" is selected (here always `.*`). */
  readonly allValue: string;
  readonly current: { readonly text: readonly string[]; readonly value: readonly string[]; readonly selected: boolean };
  readonly options: readonly VariableOption[];
  readonly skipUrlSync: boolean;
}

/** A variable whose values come from a Flux query (tag values). */
export interface QueryVariable extends VariableBase {
  readonly type: 'query';
  readonly datasource: DataSourceRef;
  readonly query: string;
  readonly definition: string;
  /** 1 on dashboard load, 2 on time range change. */
  readonly refresh: 1 | 2;
  readonly regex: string;
  /** 1 = alphabetical ascending. */
  readonly sort: number;
}

/** A variable with a fixed list of values (comma-separated in `query`). */
export interface CustomVariable extends VariableBase {
  readonly type: 'custom';
  readonly query: string;
}

export type Variable = QueryVariable | CustomVariable;

export interface DashboardLink {
  readonly title: string;
  readonly type: 'dashboards';
  readonly tags: readonly string[];
  readonly asDropdown: boolean;
  readonly includeVars: boolean;
  readonly keepTime: boolean;
  readonly icon: string;
  readonly targetBlank: boolean;
  readonly tooltip: string;
  readonly url: string;
}

export interface Dashboard {
  /** Left null: Grafana assigns its own database id; the uid is what identifies a dashboard. */
  readonly id: null;
  /** At most 40 characters of [a-zA-Z0-9_-]; stable, so links and bookmarks survive regeneration. */
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly timezone: 'browser' | 'utc' | '';
  readonly editable: boolean;
  /** 0 default, 1 shared crosshair, 2 shared tooltip. */
  readonly graphTooltip: 0 | 1 | 2;
  readonly fiscalYearStartMonth: number;
  readonly liveNow: boolean;
  readonly refresh: string;
  readonly schemaVersion: number;
  readonly version: number;
  readonly weekStart: string;
  readonly time: { readonly from: string; readonly to: string };
  readonly timepicker: Readonly<Record<string, unknown>>;
  readonly templating: { readonly list: readonly Variable[] };
  readonly annotations: { readonly list: readonly unknown[] };
  readonly links: readonly DashboardLink[];
  readonly panels: readonly Panel[];
}
