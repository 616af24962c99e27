/**
 * Building overview: who is reporting, how many events of each signal class, and the latest
 * events, for the buildings the variables select.
 */
import type { KindDefinition } from '../../../gateway/src/domain/kind.js';
import { SIGNAL_CLASSES } from '../../../gateway/src/domain/signal.js';
import { dashboard } from '../dashboard.js';
import { EVENT_MEASUREMENT, fluxString, fromRange, measurementIn, pipeline, scopeFilter } from '../flux.js';
import type { Dashboard } from '../model.js';
import { CLASS_COLORS, PanelBuilder, colorOverride } from '../panels.js';
import { deviceVariables } from '../variables.js';

export const OVERVIEW_UID = 'gridwatch-building-overview';

const CLASS_TITLES: Readonly<Record<string, string>> = {
  alarm: 'Alarms 火警',
  supervisory: 'Supervisory 监管',
  trouble: 'Trouble 故障',
  info: 'Info',
};

export function overviewDashboard(kinds: readonly KindDefinition[]): Dashboard {
  const p = new PanelBuilder();
  const everything = [...kinds.map((k) => k.id), EVENT_MEASUREMENT];
  const events = (...steps: string[]) =>
    pipeline(fromRange(), `filter(fn: (r) => r._measurement == "${EVENT_MEASUREMENT}" and r._field == "count")`, scopeFilter(), ...steps);

  p.row('Now');
  p.stat(
    {
      title: 'Devices reporting',
      description: 'Devices that sent a reading or an event in the time range.',
      query: pipeline(
        fromRange(),
        `filter(fn: (r) => ${measurementIn(everything)})`,
        scopeFilter(),
        'keep(columns: ["device"])',
        'group()',
        'distinct(column: "device")',
        'count()',
      ),
      defaults: { color: { mode: 'fixed', fixedColor: 'blue' }, unit: 'short' },
    },
    { w: 6, h: 4 },
  );
  // Info events are mostly access audit and heartbeats: counted on the hazards dashboard instead.
  for (const signalClass of SIGNAL_CLASSES.filter((c) => c !== 'info')) {
    p.stat(
      {
        title: CLASS_TITLES[signalClass] ?? signalClass,
        description: `Events of class ${signalClass} in the time range (all kinds).`,
        query: events(`filter(fn: (r) => r.class == ${fluxString(signalClass)})`, 'group()', 'sum()'),
        defaults: {
          unit: 'short',
          thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: CLASS_COLORS[signalClass] ?? 'red', value: 1 }] },
        },
      },
      { w: 6, h: 4 },
    );
  }

  p.row('Activity');
  p.timeseries(
    {
      title: 'Events by signal class',
      description: 'Device events per interval, heartbeats left out.',
      query: events(
        'filter(fn: (r) => r.type != "heartbeat")',
        'group(columns: ["class"])',
        'aggregateWindow(every: v.windowPeriod, fn: sum, createEmpty: false)',
      ),
      bars: true,
      stacked: true,
      defaults: { unit: 'short', displayName: '${__field.labels.class}' },
      overrides: SIGNAL_CLASSES.map((c) => colorOverride(c, CLASS_COLORS[c] ?? 'blue')),
    },
    { w: 12, h: 8 },
  );
  p.bargauge(
    {
      title: 'Devices reporting by kind',
      description: 'Distinct devices per kind that sent anything in the time range.',
      query: pipeline(
        fromRange(),
        `filter(fn: (r) => ${measurementIn(everything)})`,
        scopeFilter(),
        'keep(columns: ["kind", "device"])',
        'group(columns: ["kind"])',
        'distinct(column: "device")',
        'count()',
      ),
      defaults: { unit: 'short', displayName: '${__field.labels.kind}', color: { mode: 'fixed', fixedColor: 'blue' } },
    },
    { w: 12, h: 8 },
  );
  p.table(
    {
      title: 'Events by building',
      description: 'Event counts per building and signal class in the time range, heartbeats left out.',
      query: events(
        'filter(fn: (r) => r.type != "heartbeat")',
        'group(columns: ["building", "class"])',
        'sum()',
        'group()',
        'pivot(rowKey: ["building"], columnKey: ["class"], valueColumn: "_value")',
      ),
      overrides: SIGNAL_CLASSES.map((c) => colorOverride(c, CLASS_COLORS[c] ?? 'blue')),
    },
    { w: 12, h: 8 },
  );
  p.table(
    {
      title: 'Latest events',
      description: 'The 50 most recent device events other than heartbeats.',
      query: events(
        'filter(fn: (r) => r.type != "heartbeat")',
        'keep(columns: ["_time", "building", "floor", "device", "kind", "type", "class"])',
        'group()',
        'sort(columns: ["_time"], desc: true)',
        'limit(n: 50)',
      ),
    },
    { w: 12, h: 8 },
  );

  return dashboard({
    uid: OVERVIEW_UID,
    title: 'gridwatch · Building overview 楼栋总览',
    description: 'Devices reporting and events by signal class for the selected buildings.',
    tags: ['overview'],
    variables: deviceVariables(kinds),
    panels: p.panels,
  });
}
