/**
 * Hazards and alerts: device events by signal class (alarm > supervisory > trouble > info) and
 * the alarm-class events themselves. Alert lifecycle (acknowledged, shelved…) lives in the
 * gateway's API; this dashboard shows what the devices reported.
 */
import type { KindDefinition } from '../../../gateway/src/domain/kind.js';
import { SIGNAL_CLASSES } from '../../../gateway/src/domain/signal.js';
import { dashboard } from '../dashboard.js';
import { EVENT_MEASUREMENT, fromRange, pipeline, scopeFilter } from '../flux.js';
import type { Dashboard, ValueMapping } from '../model.js';
import { CLASS_COLORS, PanelBuilder, colorOverride, columnOverride } from '../panels.js';
import { deviceVariables } from '../variables.js';

export const HAZARDS_UID = 'gridwatch-hazards-alerts';

/** Event type → its title from the registry, for tables (first declaration wins on shared types). */
export function eventTitleMapping(kinds: readonly KindDefinition[], filter: (signalClass: string) => boolean = () => true): ValueMapping {
  const options: Record<string, { text: string; index: number }> = {};
  let index = 0;
  for (const kind of kinds) {
    for (const e of kind.events) {
      if (!filter(e.signalClass) || e.type in options) continue;
      options[e.type] = { text: `${e.title} ${e.titleZh} (${e.type})`, index: index++ };
    }
  }
  return { type: 'value', options };
}

export function hazardsDashboard(kinds: readonly KindDefinition[]): Dashboard {
  const p = new PanelBuilder();
  const events = (...steps: string[]) =>
    pipeline(fromRange(), `filter(fn: (r) => r._measurement == "${EVENT_MEASUREMENT}" and r._field == "count")`, scopeFilter(), ...steps);
  const classColors = SIGNAL_CLASSES.map((c) => colorOverride(c, CLASS_COLORS[c] ?? 'blue'));

  p.row('Event counts by signal class');
  p.timeseries(
    {
      title: 'Events by signal class',
      description: 'Device events per interval by class, heartbeats left out.',
      query: events(
        'filter(fn: (r) => r.type != "heartbeat")',
        'group(columns: ["class"])',
        'aggregateWindow(every: v.windowPeriod, fn: sum, createEmpty: false)',
      ),
      bars: true,
      stacked: true,
      defaults: { unit: 'short', displayName: '${__field.labels.class}' },
      overrides: classColors,
    },
    { w: 16, h: 8 },
  );
  p.bargauge(
    {
      title: 'Totals by signal class',
      query: events('filter(fn: (r) => r.type != "heartbeat")', 'group(columns: ["class"])', 'sum()'),
      defaults: { unit: 'short', displayName: '${__field.labels.class}' },
      overrides: classColors,
    },
    { w: 8, h: 8 },
  );
  p.bargauge(
    {
      title: 'Alarm events by type',
      description: 'Alarm-class events (火警, security alarms) per event type in the time range.',
      query: events('filter(fn: (r) => r.class == "alarm")', 'group(columns: ["type"])', 'sum()'),
      defaults: { unit: 'short', displayName: '${__field.labels.type}', color: { mode: 'fixed', fixedColor: 'red' } },
    },
    { w: 12, h: 8 },
  );
  p.bargauge(
    {
      title: 'Supervisory and trouble events by type',
      description: 'Impaired protection (监管) and faulty monitoring (故障) per event type.',
      query: events('filter(fn: (r) => r.class == "supervisory" or r.class == "trouble")', 'group(columns: ["type"])', 'sum()'),
      defaults: { unit: 'short', displayName: '${__field.labels.type}', color: { mode: 'fixed', fixedColor: 'orange' } },
    },
    { w: 12, h: 8 },
  );

  p.row('Alarm-class events');
  p.table(
    {
      title: 'Alarm events',
      description: 'Every alarm-class device event in the time range, newest first (at most 500).',
      query: events(
        'filter(fn: (r) => r.class == "alarm")',
        'keep(columns: ["_time", "building", "floor", "device", "kind", "type"])',
        'group()',
        'sort(columns: ["_time"], desc: true)',
        'limit(n: 500)',
      ),
      overrides: [columnOverride('type', [{ id: 'mappings', value: [eventTitleMapping(kinds, (c) => c === 'alarm')] }])],
    },
    { w: 24, h: 10 },
  );
  p.table(
    {
      title: 'Supervisory and trouble events',
      description: 'The 200 most recent supervisory and trouble events.',
      query: events(
        'filter(fn: (r) => r.class == "supervisory" or r.class == "trouble")',
        'keep(columns: ["_time", "building", "floor", "device", "kind", "type", "class"])',
        'group()',
        'sort(columns: ["_time"], desc: true)',
        'limit(n: 200)',
      ),
      overrides: [
        columnOverride('type', [{ id: 'mappings', value: [eventTitleMapping(kinds, (c) => c === 'supervisory' || c === 'trouble')] }]),
      ],
    },
    { w: 24, h: 10 },
  );

  return dashboard({
    uid: HAZARDS_UID,
    title: 'gridwatch · Hazards and alerts 隐患与告警',
    description: 'Device events by signal class, and the alarm-class events themselves.',
    tags: ['hazards'],
    variables: deviceVariables(kinds),
    panels: p.panels,
  });
}
