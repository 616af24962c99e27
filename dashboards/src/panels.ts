/**
 * Panel factories. A `PanelBuilder` numbers panels and places them with a GridLayout; each
 * factory returns the JSON Grafana 11 stores for that visualisation, with the gridwatch InfluxDB
 * datasource on the panel and on every query.
 */
import { DATASOURCE } from './flux.js';
import { GridLayout } from './layout.js';
import type { DataPanel, FieldDefaults, FieldOverride, Panel, RowPanel, TextPanel, ThresholdStep } from './model.js';

/** Signal class colours: the same on every dashboard (alarm red, supervisory orange, trouble yellow). */
export const CLASS_COLORS: Readonly<Record<string, string>> = Object.freeze({
  alarm: 'red',
  supervisory: 'orange',
  trouble: 'yellow',
  info: 'blue',
});

export interface Size {
  readonly w: number;
  readonly h: number;
}

export interface DataPanelSpec {
  readonly title: string;
  readonly description?: string;
  readonly query: string;
  readonly defaults?: FieldDefaults;
  readonly overrides?: readonly FieldOverride[];
  readonly options?: Readonly<Record<string, unknown>>;
  readonly transformations?: DataPanel['transformations'];
}

const BASE_THRESHOLDS: readonly ThresholdStep[] = [{ color: 'green', value: null }];

/** An override giving the series whose display name is `name` a fixed colour. */
export function colorOverride(name: string, color: string): FieldOverride {
  return {
    matcher: { id: 'byName', options: name },
    properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: color } }],
  };
}

/** An override for one table column. */
export function columnOverride(name: string, properties: FieldOverride['properties']): FieldOverride {
  return { matcher: { id: 'byName', options: name }, properties };
}

export class PanelBuilder {
  private nextId = 1;
  private readonly layout = new GridLayout();
  readonly panels: Panel[] = [];

  row(title: string): RowPanel {
    const panel: RowPanel = { id: this.nextId++, type: 'row', title, collapsed: false, gridPos: this.layout.row(), panels: [] };
    this.panels.push(panel);
    return panel;
  }

  text(title: string, content: string, size: Size): TextPanel {
    const panel: TextPanel = {
      id: this.nextId++,
      type: 'text',
      title,
      gridPos: this.layout.place(size.w, size.h),
      options: { mode: 'markdown', content },
    };
    this.panels.push(panel);
    return panel;
  }

  timeseries(spec: DataPanelSpec & { readonly stacked?: boolean; readonly bars?: boolean }, size: Size): DataPanel {
    const custom = {
      drawStyle: spec.bars ? 'bars' : 'line',
      lineWidth: 1,
      fillOpacity: spec.bars ? 80 : 10,
      gradientMode: 'none',
      showPoints: 'never',
      spanNulls: false,
      axisPlacement: 'auto',
      stacking: { mode: spec.stacked ? 'normal' : 'none', group: 'A' },
    };
    return this.data('timeseries', spec, size, { custom }, {
      legend: { displayMode: 'list', placement: 'bottom', showLegend: true, calcs: [] },
      tooltip: { mode: 'multi', sort: 'desc' },
    });
  }

  stat(spec: DataPanelSpec, size: Size): DataPanel {
    return this.data('stat', spec, size, { noValue: '0' }, {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'background',
      graphMode: 'none',
      justifyMode: 'auto',
      orientation: 'auto',
      textMode: 'auto',
      wideLayout: true,
      showPercentChange: false,
    });
  }

  table(spec: DataPanelSpec, size: Size): DataPanel {
    return this.data('table', spec, size, { custom: { align: 'auto', filterable: true, cellOptions: { type: 'auto' } } }, {
      showHeader: true,
      cellHeight: 'sm',
      footer: { show: false, reducer: ['sum'], fields: '', countRows: false },
    });
  }

  bargauge(spec: DataPanelSpec, size: Size): DataPanel {
    return this.data('bargauge', spec, size, {}, {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      orientation: 'horizontal',
      displayMode: 'gradient',
      valueMode: 'color',
      showUnfilled: true,
      namePlacement: 'auto',
      sizing: 'auto',
      minVizHeight: 16,
      minVizWidth: 8,
      maxVizHeight: 300,
    });
  }

  private data(
    type: DataPanel['type'],
    spec: DataPanelSpec,
    size: Size,
    typeDefaults: FieldDefaults,
    typeOptions: Readonly<Record<string, unknown>>,
  ): DataPanel {
    const defaults: FieldDefaults = {
      color: { mode: type === 'timeseries' ? 'palette-classic' : 'thresholds' },
      thresholds: { mode: 'absolute', steps: BASE_THRESHOLDS },
      ...typeDefaults,
      ...spec.defaults,
      custom: { ...typeDefaults.custom, ...spec.defaults?.custom },
    };
    const panel: DataPanel = {
      id: this.nextId++,
      type,
      title: spec.title,
      ...(spec.description ? { description: spec.description } : {}),
      datasource: DATASOURCE,
      gridPos: this.layout.place(size.w, size.h),
      targets: [{ refId: 'A', datasource: DATASOURCE, query: spec.query }],
      fieldConfig: { defaults, overrides: spec.overrides ?? [] },
      options: { ...typeOptions, ...spec.options },
      ...(spec.transformations ? { transformations: spec.transformations } : {}),
    };
    this.panels.push(panel);
    return panel;
  }
}
