/**
 * Access and face-gate events: door controller and face-recognition gate events by type. Which
 * kinds count as access kinds is listed here; their events, titles and classes come from the
 * registry, so a new event type shows up without editing this file.
 */
import type { KindDefinition } from '../../../gateway/src/domain/kind.js';
import { dashboard } from '../dashboard.js';
import { EVENT_MEASUREMENT, fluxString, fromRange, pipeline, scopeFilter } from '../flux.js';
import type { Dashboard } from '../model.js';
import { PanelBuilder, columnOverride } from '../panels.js';
import { deviceVariables } from '../variables.js';
import { eventTitleMapping } from './hazards.js';

export const ACCESS_UID = 'gridwatch-access-events';

/** Kinds whose events are passages through doors and gates (门禁, 人脸闸机). */
export const ACCESS_KIND_IDS: readonly string[] = ['door', 'face-gate'];

export function accessDashboard(kinds: readonly KindDefinition[]): Dashboard {
  const p = new PanelBuilder();
  const accessKinds = kinds.filter((k) => ACCESS_KIND_IDS.includes(k.id));

  for (const kind of accessKinds) {
    const events = (...steps: string[]) =>
      pipeline(
        fromRange(),
        `filter(fn: (r) => r._measurement == "${EVENT_MEASUREMENT}" and r._field == "count" and r.kind == ${fluxString(kind.id)})`,
        scopeFilter(),
        'filter(fn: (r) => r.type != "heartbeat")',
        ...steps,
      );
    const titles = eventTitleMapping([kind]);

    p.row(`${kind.title} ${kind.titleZh} · ${kind.id}`);
    p.timeseries(
      {
        title: `${kind.title}: events by type`,
        description: `${kind.id} events per interval by type, heartbeats left out.`,
        query: events('group(columns: ["type"])', 'aggregateWindow(every: v.windowPeriod, fn: sum, createEmpty: false)'),
        bars: true,
        stacked: true,
        defaults: { unit: 'short', displayName: '${__field.labels.type}' },
      },
      { w: 16, h: 8 },
    );
    p.table(
      {
        title: `${kind.title}: totals by type`,
        description: `${kind.id} event counts in the time range, most frequent first.`,
        query: events('group(columns: ["type", "class"])', 'sum()', 'group()', 'sort(columns: ["_value"], desc: true)'),
        overrides: [
          columnOverride('type', [{ id: 'mappings', value: [titles] }]),
          columnOverride('_value', [{ id: 'displayName', value: 'Count' }]),
        ],
      },
      { w: 8, h: 8 },
    );
    p.table(
      {
        title: `${kind.title}: alarm and supervisory events`,
        description: `The 200 most recent ${kind.id} events of class alarm or supervisory (forced doors, tailgating, strangers…).`,
        query: events(
          'filter(fn: (r) => r.class == "alarm" or r.class == "supervisory")',
          'keep(columns: ["_time", "building", "floor", "device", "type", "class"])',
          'group()',
          'sort(columns: ["_time"], desc: true)',
          'limit(n: 200)',
        ),
        overrides: [columnOverride('type', [{ id: 'mappings', value: [titles] }])],
      },
      { w: 24, h: 8 },
    );
  }
  if (accessKinds.length === 0) {
    p.text('No access kinds', `No kind in the registry is one of: ${ACCESS_KIND_IDS.join(', ')}.`, { w: 24, h: 3 });
  }

  return dashboard({
    uid: ACCESS_UID,
    title: 'gridwatch · Access and face-gate events 门禁与人脸闸机',
    description: 'Door access controller and face-recognition gate events by type. Person references and hashes are not in InfluxDB.',
    tags: ['access'],
    variables: deviceVariables(kinds),
    panels: p.panels,
  });
}
