/**
 * Device health: when each device was last heard from against its kind's heartbeat contract
 * (offline after `heartbeat.offlineAfterS` of silence), battery levels and signal strength for
 * the kinds that declare those measurements, and heartbeat traffic.
 */
import type { KindDefinition, Measurement } from '../../../gateway/src/domain/kind.js';
import { dashboard } from '../dashboard.js';
import { EVENT_MEASUREMENT, fluxString, fromRange, measurementIn, pipeline, scopeFilter } from '../flux.js';
import type { Dashboard, FieldOverride } from '../model.js';
import { PanelBuilder, columnOverride } from '../panels.js';
import { grafanaUnit } from '../units.js';
import { deviceVariables } from '../variables.js';

export const DEVICE_HEALTH_UID = 'gridwatch-device-health';

/** Below this a battery shows red on the dashboard (devices send their own battery.low too). */
const LOW_BATTERY_PCT = 20;

/** Kinds declaring a measurement `name`, and that measurement's declared range across them. */
function kindsMeasuring(kinds: readonly KindDefinition[], name: string): { ids: string[]; measurement: Measurement } | null {
  const having = kinds.filter((k) => k.measurementsByName.has(name));
  const first = having[0]?.measurementsByName.get(name);
  if (!first) return null;
  const all = having.map((k) => k.measurementsByName.get(name) as Measurement);
  return {
    ids: having.map((k) => k.id),
    measurement: { ...first, min: Math.min(...all.map((m) => m.min)), max: Math.max(...all.map((m) => m.max)) },
  };
}

/**
 * Latest time each device was heard from (a reading or an event), how long it has been silent at
 * the end of the range, and whether that exceeds its kind's offline threshold.
 */
function lastSeenQuery(kinds: readonly KindDefinition[], onlyOffline: boolean): string {
  const thresholds = kinds.map((k) => `${fluxString(k.id)}: ${k.heartbeat.offlineAfterS}`).join(', ');
  const body = pipeline(
    fromRange(),
    `filter(fn: (r) => ${measurementIn([...kinds.map((k) => k.id), EVENT_MEASUREMENT])})`,
    scopeFilter(),
    // The newest point of every series first (done by the storage engine), then per device.
    'last()',
    'keep(columns: ["_time", "building", "floor", "device", "kind"])',
    'group(columns: ["device"])',
    'sort(columns: ["_time"])',
    'last(column: "_time")',
    'group()',
    'map(fn: (r) => ({r with silent_s: (int(v: v.timeRangeStop) - int(v: r._time)) / 1000000000, offline_after_s: dict.get(dict: offlineAfterS, key: r.kind, default: 60)}))',
    'map(fn: (r) => ({r with status: if r.silent_s > r.offline_after_s then "offline" else "online"}))',
    ...(onlyOffline ? ['filter(fn: (r) => r.status == "offline")'] : []),
    'sort(columns: ["silent_s"], desc: true)',
  );
  return [
    'import "dict"',
    '',
    '// Offline after this many seconds of silence: each kind\'s heartbeat contract (domain/kind.ts).',
    `offlineAfterS = [${thresholds}]`,
    '',
    body,
  ].join('\n');
}

const LAST_SEEN_COLUMNS: readonly FieldOverride[] = [
  columnOverride('_time', [{ id: 'displayName', value: 'Last seen' }]),
  columnOverride('silent_s', [
    { id: 'displayName', value: 'Silent for' },
    { id: 'unit', value: 's' },
  ]),
  columnOverride('offline_after_s', [
    { id: 'displayName', value: 'Offline after' },
    { id: 'unit', value: 's' },
  ]),
  columnOverride('status', [
    {
      id: 'mappings',
      value: [
        {
          type: 'value',
          options: { offline: { text: 'offline 离线', color: 'red', index: 0 }, online: { text: 'online 在线', color: 'green', index: 1 } },
        },
      ],
    },
    { id: 'custom.cellOptions', value: { type: 'color-background' } },
  ]),
];

const NOT_LISTED =
  'A device silent for the whole time range is not listed: widen the range, or ask the gateway (GET /api/v1/devices), which knows every registered device.';

export function deviceHealthDashboard(kinds: readonly KindDefinition[]): Dashboard {
  const p = new PanelBuilder();

  p.row('Offline devices and last seen');
  p.stat(
    {
      title: 'Offline now',
      description: `Devices silent for longer than their kind's offline threshold at the end of the range. ${NOT_LISTED}`,
      query: `${lastSeenQuery(kinds, true)}\n  |> count(column: "device")`,
      defaults: {
        unit: 'short',
        thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: 1 }] },
      },
    },
    { w: 6, h: 8 },
  );
  p.table(
    {
      title: 'Offline devices',
      description: NOT_LISTED,
      query: lastSeenQuery(kinds, true),
      overrides: LAST_SEEN_COLUMNS,
    },
    { w: 18, h: 8 },
  );
  p.table(
    {
      title: 'Last seen per device',
      description: `Latest reading or event of every device, longest silent first. Offline thresholds: ${kinds
        .map((k) => `${k.id} ${k.heartbeat.offlineAfterS} s`)
        .join(', ')}.`,
      query: lastSeenQuery(kinds, false),
      overrides: LAST_SEEN_COLUMNS,
    },
    { w: 24, h: 10 },
  );

  const battery = kindsMeasuring(kinds, 'battery');
  const rssi = kindsMeasuring(kinds, 'rssi');
  if (battery || rssi) p.row('Battery and signal');
  if (battery) {
    const latest = pipeline(
      fromRange(),
      `filter(fn: (r) => ${measurementIn(battery.ids)} and r._field == "battery")`,
      scopeFilter(),
      'last()',
      'keep(columns: ["_time", "_value", "device"])',
      'group(columns: ["device"])',
      'sort(columns: ["_time"])',
      'last()',
    );
    const batteryDefaults = {
      unit: grafanaUnit(battery.measurement.unit),
      min: battery.measurement.min,
      max: battery.measurement.max,
      decimals: 0,
      thresholds: {
        mode: 'absolute' as const,
        steps: [
          { color: 'red', value: null },
          { color: 'orange', value: LOW_BATTERY_PCT },
          { color: 'green', value: 2 * LOW_BATTERY_PCT },
        ],
      },
    };
    p.bargauge(
      {
        title: 'Battery level (latest)',
        description: `Latest battery reading per device (kinds: ${battery.ids.join(', ')}).`,
        query: latest,
        defaults: { ...batteryDefaults, displayName: '${__field.labels.device}' },
      },
      { w: 12, h: 10 },
    );
    p.table(
      {
        title: `Low battery (below ${LOW_BATTERY_PCT} %)`,
        description: 'Devices whose latest battery reading is low: replace before they go silent.',
        query: `${latest}\n  |> group()\n  |> filter(fn: (r) => r._value < ${LOW_BATTERY_PCT})\n  |> sort(columns: ["_value"])`,
        overrides: [
          columnOverride('_value', [
            { id: 'displayName', value: 'Battery' },
            { id: 'unit', value: batteryDefaults.unit },
            { id: 'custom.cellOptions', value: { type: 'color-text' } },
          ]),
          columnOverride('_time', [{ id: 'displayName', value: 'Reported' }]),
        ],
        defaults: { thresholds: batteryDefaults.thresholds },
      },
      { w: 12, h: 10 },
    );
  }
  if (rssi) {
    p.timeseries(
      {
        title: 'Signal strength',
        description: `Mean received signal strength per device and interval (kinds: ${rssi.ids.join(', ')}); weak below -110 dBm.`,
        query: pipeline(
          fromRange(),
          `filter(fn: (r) => ${measurementIn(rssi.ids)} and r._field == "rssi")`,
          scopeFilter(),
          'group(columns: ["device"])',
          'aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false)',
        ),
        defaults: {
          unit: grafanaUnit(rssi.measurement.unit),
          min: rssi.measurement.min,
          max: rssi.measurement.max,
          displayName: '${__field.labels.device}',
          thresholds: {
            mode: 'absolute',
            steps: [
              { color: 'red', value: null },
              { color: 'orange', value: -120 },
              { color: 'green', value: -110 },
            ],
          },
          custom: { thresholdsStyle: { mode: 'dashed' } },
        },
      },
      { w: 24, h: 8 },
    );
  }

  p.row('Heartbeats');
  p.timeseries(
    {
      title: 'Heartbeat events by kind',
      description: `Heartbeats per interval. Expected interval per kind: ${kinds
        .map((k) => `${k.id} ${k.heartbeat.intervalS} s`)
        .join(', ')}.`,
      query: pipeline(
        fromRange(),
        `filter(fn: (r) => r._measurement == "${EVENT_MEASUREMENT}" and r._field == "count" and r.type == "heartbeat")`,
        scopeFilter(),
        'group(columns: ["kind"])',
        'aggregateWindow(every: v.windowPeriod, fn: sum, createEmpty: false)',
      ),
      bars: true,
      stacked: true,
      defaults: { unit: 'short', displayName: '${__field.labels.kind}' },
    },
    { w: 24, h: 8 },
  );

  return dashboard({
    uid: DEVICE_HEALTH_UID,
    title: 'gridwatch · Device health 设备健康',
    description: 'Offline devices against each kind\'s heartbeat contract, last seen, battery and signal strength.',
    tags: ['devices'],
    variables: deviceVariables(kinds),
    panels: p.panels,
  });
}
