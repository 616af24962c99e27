/**
 * The rule factories kind files compose their default rules from, so a kind stays one file:
 * generic ones (`eventAlarm`, `threshold`, `rateOfRise`, `repeatedWithin`, `coExposure`,
 * `smokeAlarm`, `forcedOpen`, `heldOpen`, `offline`) and a few named presets with the
 * domain's default figures (domain.md §3).
 */
import { rateOfRise, threshold } from './analog.js';
import type { AnyRule } from './definition.js';
import { repeatedWithin } from './repeated-within.js';

export { rateOfRise, threshold, type RateOfRiseOptions, type ThresholdOptions } from './analog.js';
export { coExposure, exposureAt, CO_EXPOSURE_DEFAULTS, type CoExposureOptions, type CoExposureParams } from './co-exposure.js';
export { forcedOpen, heldOpen, PREWARNING_TYPE } from './door-rules.js';
export { eventAlarm, eventAlarms, eventSpec, type EventAlarmOptions } from './event-alarm.js';
export { offline, OFFLINE_RULE_ID, MIN_STARTUP_GRACE_S } from './offline.js';
export { repeatedWithin, type RepeatCounter, type RepeatedWithinOptions } from './repeated-within.js';
export { smokeAlarm, type SmokeAlarmOptions, type SmokeAlarmParams } from './smoke-alarm.js';

/** Fixed-temperature heat alarm: 57 °C (135 °F, the common UL 521 ordinary rating); never waits. */
export function heatFixed(): AnyRule {
  return threshold({
    id: 'heat.fixed',
    title: 'Heat alarm',
    titleZh: '温度报警',
    description: "Temperature at or above fixedC, or the detector's heat.alarm event; latched; clears at fixedC − deadbandC.",
    signalClass: 'alarm',
    latched: true,
    measurement: 'temperature',
    label: 'Temperature',
    unit: '°C',
    direction: 'above',
    names: { level: 'fixedC', deadband: 'deadbandC', onDelayS: 'onDelayS' },
    defaults: { level: 57, deadband: 2, onDelayS: 0 },
    range: { min: -40, max: 125 },
    events: ['heat.alarm'],
  });
}

/** Rate-of-rise heat alarm: 8.3 °C/min (15 °F/min) over a one-minute window. */
export function heatRateOfRise(): AnyRule {
  return rateOfRise({
    id: 'heat.rate_of_rise',
    title: 'Heat rising fast',
    titleZh: '温升报警',
    measurement: 'temperature',
    label: 'Temperature',
    unit: '°C',
    defaults: { ratePerMin: 8.3, windowS: 60, minSpanS: 20, deadbandPerMin: 2 },
  });
}

/** Battery below lowPct (or the device's battery.low event) → trouble; clears at lowPct + deadbandPct. */
export function batteryLow(defaults: { lowPct?: number; deadbandPct?: number } = {}): AnyRule {
  return threshold({
    id: 'battery.low',
    title: 'Low battery',
    titleZh: '电池欠压',
    description: "Battery below lowPct %, or the device's battery.low event; clears once a reading is back at lowPct + deadbandPct.",
    signalClass: 'trouble',
    measurement: 'battery',
    label: 'Battery',
    unit: '%',
    direction: 'below',
    names: { level: 'lowPct', deadband: 'deadbandPct', onDelayS: 'onDelayS' },
    defaults: { level: defaults.lowPct ?? 15, deadband: defaults.deadbandPct ?? 5, onDelayS: 0 },
    range: { min: 0, max: 100 },
    events: ['battery.low'],
  });
}

/** Repeated access denials: 3 per credential or 5 per reader within 60 s → alarm. */
export function repeatedDenials(): AnyRule {
  return repeatedWithin({
    id: 'door.repeated_denials',
    title: 'Repeated access denials',
    titleZh: '多次拒绝通行',
    signalClass: 'alarm',
    event: 'access.denied',
    eventWords: 'access denials',
    counters: [
      { name: 'perCredential', attr: 'credentialRef', count: 3, label: 'for one credential' },
      { name: 'perReader', attr: 'readerId', count: 5, label: 'at one reader' },
    ],
    windowS: 60,
  });
}

/** Repeated face failures: 5 'face.failed' per gate within 60 s, or the gate's own face.repeated_failures event. */
export function repeatedFaceFailures(): AnyRule {
  return repeatedWithin({
    id: 'face.repeated_failures',
    title: 'Repeated face failures',
    titleZh: '多次比对失败',
    signalClass: 'alarm',
    event: 'face.failed',
    eventWords: 'failed face checks',
    counters: [{ name: 'perGate', attr: 'gateId', orDevice: true, count: 5, label: 'at one gate' }],
    windowS: 60,
    direct: ['face.repeated_failures'],
  });
}

/** Camera frame rate below minFps for forS → trouble; clears at minFps + deadbandFps. */
export function lowFrameRate(): AnyRule {
  return threshold({
    id: 'camera.low_fps',
    title: 'Low frame rate',
    titleZh: '帧率过低',
    description: 'Frame rate below minFps over samples spanning forS; clears once back at minFps + deadbandFps.',
    signalClass: 'trouble',
    measurement: 'fps',
    label: 'Frame rate',
    unit: 'fps',
    direction: 'below',
    names: { level: 'minFps', deadband: 'deadbandFps', onDelayS: 'forS' },
    defaults: { level: 10, deadband: 2, onDelayS: 60 },
    range: { min: 0, max: 120 },
  });
}

/**
 * Stalled stream: the last frame older than maxFrameAgeS (a VMS marks a stream disconnected after
 * about 10 s without data) → trouble; clears at maxFrameAgeS − deadbandS.
 */
export function stalledStream(): AnyRule {
  return threshold({
    id: 'camera.stalled',
    title: 'Video stream stalled',
    titleZh: '视频流停滞',
    description: 'Age of the last frame at or above maxFrameAgeS; clears once back at maxFrameAgeS − deadbandS.',
    signalClass: 'trouble',
    measurement: 'last_frame_age',
    label: 'Last frame age',
    unit: 's',
    direction: 'above',
    names: { level: 'maxFrameAgeS', deadband: 'deadbandS', onDelayS: 'onDelayS' },
    defaults: { level: 10, deadband: 5, onDelayS: 0 },
    range: { min: 0, max: 86_400 },
  });
}
