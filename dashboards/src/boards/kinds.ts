/**
 * Readings by kind: one row per registered kind and one time series panel per declared
 * measurement, with the measurement's unit and declared range. Adding a kind to the registry adds
 * its row; nothing here names a kind.
 */
import type { KindDefinition, Measurement } from '../../../gateway/src/domain/kind.js';
import { dashboard } from '../dashboard.js';
import { fluxString, fromRange, pipeline, scopeFilter } from '../flux.js';
import type { Dashboard } from '../model.js';
import { PanelBuilder } from '../panels.js';
import { grafanaUnit } from '../units.js';
import { deviceVariables } from '../variables.js';

export const KINDS_UID = 'gridwatch-kinds';

/** Row title; ends with `· {kind id}` so the row can be found again (tests, links). */
export function kindRowTitle(kind: KindDefinition): string {
  return `${kind.title} ${kind.titleZh} · ${kind.id}`;
}

/** The series of one measurement: measurement = kind id, field = measurement name. */
export function measurementQuery(kind: KindDefinition, m: Measurement): string {
  return pipeline(
    fromRange(),
    `filter(fn: (r) => r._measurement == ${fluxString(kind.id)} and r._field == ${fluxString(m.name)})`,
    scopeFilter(),
    'group(columns: ["device"])',
    'aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false)',
  );
}

export function kindsDashboard(kinds: readonly KindDefinition[]): Dashboard {
  const p = new PanelBuilder();
  for (const kind of kinds) {
    p.row(kindRowTitle(kind));
    for (const m of kind.measurements) {
      p.timeseries(
        {
          title: `${m.title} ${m.titleZh} (${m.unit})`,
          description:
            `${kind.id}.${m.name}: mean per device and interval. Declared range ${m.min} to ${m.max} ${m.unit}` +
            `${m.integer ? ', whole numbers' : ''}; values outside it are rejected at ingest.`,
          query: measurementQuery(kind, m),
          defaults: {
            unit: grafanaUnit(m.unit),
            min: m.min,
            max: m.max,
            ...(m.integer ? { decimals: 0 } : {}),
            displayName: '${__field.labels.device}',
          },
        },
        { w: 8, h: 8 },
      );
    }
  }
  return dashboard({
    uid: KINDS_UID,
    title: 'gridwatch · Readings by kind 分类读数',
    description: 'One row per sensor kind in the registry, one panel per declared measurement.',
    tags: ['kinds'],
    variables: deviceVariables(kinds),
    panels: p.panels,
  });
}
