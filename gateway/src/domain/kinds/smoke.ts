/**
 * Smoke / fire detector (烟感). A battery-powered, networked (NB-IoT or LoRa) point detector that
 * may also sense heat and CO, or an addressable detector reported through a fire panel (zone,
 * loop, address). Events follow the fire-panel classes: 火警 alarm, 监管 supervisory, 故障 trouble.
 */
import { Type } from '@sinclair/typebox';
import { defineKind } from '../kind.js';
import {
  alarm,
  battery,
  batteryLevel,
  batteryPowered,
  between,
  code,
  drift,
  heartbeat,
  info,
  integerBetween,
  numeric,
  oneOf,
  remember,
  rssi,
  sampleEvent,
  stamp,
  supervisory,
  temperature,
  trouble,
  weighted,
} from './factories.js';
import {
  batteryLow,
  coExposure,
  eventAlarm,
  eventAlarms,
  eventSpec,
  heatFixed,
  heatRateOfRise,
  offline,
  smokeAlarm,
} from '../rules/factories.js';

const events = [
  alarm('smoke.alarm', 'Smoke alarm', '烟雾报警'),
  alarm('heat.alarm', 'Heat alarm', '温度报警'),
  alarm('co.alarm', 'CO alarm', '一氧化碳报警'),
  alarm('manual_call_point', 'Manual call point', '手动报警按钮'),
  supervisory('prealarm', 'Pre-alarm', '预警'),
  supervisory('silenced', 'Alarm silenced', '消音'),
  supervisory('disabled', 'Detector disabled at the device', '探测器被关闭'),
  trouble('battery.low', 'Low battery', '电池欠压'),
  trouble('end_of_life', 'End of life', '寿命到期'),
  trouble('sensor.fault', 'Sensor fault', '传感器故障'),
  trouble('chamber.dirty', 'Smoke chamber dirty', '烟室污染'),
  trouble('tamper.removed_from_base', 'Removed from base', '防拆报警'),
  trouble('mains.lost', 'Mains power lost', '主电故障'),
  info('self_test', 'Self-test', '自检'),
  heartbeat(),
] as const;

// Battery detectors sleep between reports: hourly heartbeat, offline after three misses.
const contract = batteryPowered(3600);
/** Detectors repeat an active fault with their periodic report; two quiet reports mean it is over. */
const FAULT_QUIET_S = 2 * contract.intervalS;

export const smokeKind = defineKind({
  id: 'smoke',
  title: 'Smoke detector',
  titleZh: '烟感探测器',
  description:
    'Photoelectric smoke detector with optional heat and CO sensing. Battery-powered networked models report about hourly; ' +
    'alarms are sent at once. CO alarms follow UL 2034 exposure curves, so the gateway treats CO as exposure, not a fixed line.',
  measurements: [
    // Photoelectric alarm thresholds sit around 0.1–0.2 dB/m; 4 dB/m is far past any detector's saturation.
    numeric('obscuration', 'Smoke obscuration', '烟雾浓度', 'dB/m', 0, 4),
    // Fixed-temperature heat alarm is 57 °C; fire conditions can exceed the electronics rating briefly.
    temperature(-40, 125),
    numeric('co', 'Carbon monoxide', '一氧化碳', 'ppm', 0, 2000, { integer: true }),
    battery(),
    rssi(),
  ],
  events,
  eventAttributes: {
    zone: code('Fire zone or room the detector covers, as configured on the panel or in the app'),
    loop: Type.Integer({ minimum: 0, maximum: 255, description: 'Panel loop (addressable systems)' }),
    address: Type.Integer({ minimum: 0, maximum: 255, description: 'Detector address on its loop' }),
    measurement: oneOf(['obscuration', 'temperature', 'co', 'battery'], 'Which measurement caused the event'),
    value: Type.Number({ minimum: -40, maximum: 2000, description: 'Value of that measurement, in its unit' }),
    result: oneOf(['pass', 'fail'], 'Self-test outcome'),
  },
  heartbeat: contract,
  rules: [
    // Fire (火警). Smoke may be verified (NFPA 72 idea); heat and CO never wait.
    smokeAlarm(),
    heatFixed(),
    heatRateOfRise(),
    coExposure(),
    eventAlarm(eventSpec(events, 'manual_call_point'), { latched: true }),
    // Supervisory (监管): a pre-alarm is brief, a silence lasts about ten minutes on most detectors.
    eventAlarm(eventSpec(events, 'prealarm'), { clearAfterS: 300 }),
    eventAlarm(eventSpec(events, 'silenced'), { clearAfterS: 900 }),
    eventAlarm(eventSpec(events, 'disabled'), { clearAfterS: FAULT_QUIET_S }),
    // Trouble (故障).
    batteryLow(),
    ...eventAlarms(events, ['end_of_life', 'sensor.fault', 'chamber.dirty', 'tamper.removed_from_base', 'mains.lost'], {
      clearAfterS: FAULT_QUIET_S,
    }),
    offline(contract),
  ],
  sample: {
    telemetry: (ctx) =>
      stamp(ctx, {
        obscuration: drift(ctx, 'obscuration', { start: 0.02, step: 0.005, min: 0, max: 0.08, decimals: 3 }),
        temperature: drift(ctx, 'temperature', { start: 22, step: 0.3, min: 10, max: 35, decimals: 1 }),
        co: drift(ctx, 'co', { start: 1, step: 1, min: 0, max: 9, decimals: 0 }),
        battery: batteryLevel(ctx),
        rssi: drift(ctx, 'rssi', { start: -95, step: 3, min: -120, max: -70, decimals: 0 }),
      }),
    event: (ctx) =>
      sampleEvent(ctx, events, (type) => {
        // A detector's place on its panel is chosen once per device and kept.
        const where = remember(ctx, 'placement', () => ({
          zone: `Z${integerBetween(ctx, 1, 32)}`,
          loop: integerBetween(ctx, 1, 4),
          address: integerBetween(ctx, 1, 127),
        }));
        switch (type) {
          case 'smoke.alarm':
            return { ...where, measurement: 'obscuration', value: between(ctx, 0.15, 0.6, 3) };
          case 'prealarm':
            return { ...where, measurement: 'obscuration', value: between(ctx, 0.06, 0.12, 3) };
          case 'heat.alarm':
            return { ...where, measurement: 'temperature', value: between(ctx, 57, 90, 1) };
          case 'co.alarm':
            return { ...where, measurement: 'co', value: integerBetween(ctx, 70, 400) };
          case 'battery.low':
            return { ...where, measurement: 'battery', value: integerBetween(ctx, 1, 15) };
          case 'self_test':
            return { ...where, result: weighted(ctx, [[19, 'pass'], [1, 'fail']] as const) };
          default:
            return where;
        }
      }),
  },
});
