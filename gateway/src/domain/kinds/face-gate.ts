/**
 * Face-recognition gate (人脸识别闸机). Faces are sensitive personal data (China PIPL art. 28–29;
 * the face-recognition security measures in force since 2025-06-01; GB/T 41819): the gate reports
 * person references, vendor scores and template hashes only. There is deliberately no field for
 * an image, and the event schema rejects any field it does not declare.
 */
import { defineKind, type SampleContext } from '../kind.js';
import {
  alarm,
  between,
  drift,
  hashRef,
  heartbeat,
  info,
  integerBetween,
  mainsPowered,
  numeric,
  oneOf,
  pick,
  ref,
  remember,
  sampleDigest,
  sampleEvent,
  score,
  stamp,
  supervisory,
  temperature,
  trouble,
} from './factories.js';
import { eventAlarm, eventAlarms, eventSpec, offline, repeatedFaceFailures } from '../rules/factories.js';

const events = [
  info('face.verified', 'Face verified', '人脸比对通过'),
  info('face.failed', 'Face not verified', '人脸比对失败'),
  // Not an alarm on its own: a stranger at a residential gate is worth a look, not a siren.
  supervisory('face.stranger', 'Stranger (no match above threshold)', '陌生人'),
  alarm('face.blocklist_match', 'Blocklist match', '黑名单比中'),
  alarm('face.liveness_failed', 'Liveness check failed (spoofing attempt)', '活体检测失败'),
  alarm('face.repeated_failures', 'Repeated failures', '多次比对失败'),
  alarm('tailgating', 'Tailgating', '尾随通行'),
  alarm('reverse_passage', 'Reverse passage', '逆向通行'),
  alarm('climb_over', 'Climbing over', '翻越闸机'),
  alarm('forced_passage', 'Forced passage', '强行闯闸'),
  // Offline is not a device event: the gateway derives it from missing heartbeats and the Last Will.
  trouble('device.tamper', 'Gate tamper', '设备防拆'),
  heartbeat(),
] as const;

const contract = mainsPowered(60);

/** Vendor 1:N similarity threshold most gates ship with (scores are 0–100, not probabilities). */
const THRESHOLD = 80;

export const faceGateKind = defineKind({
  id: 'face-gate',
  title: 'Face-recognition gate',
  titleZh: '人脸识别闸机',
  description:
    'Turnstile or door terminal that matches faces 1:N against enrolled residents. Reports person references, vendor ' +
    'similarity and liveness scores (0–100) and template hashes; never images.',
  measurements: [
    temperature(),
    numeric('cpu_load', 'CPU load', 'CPU 占用', '%', 0, 100),
    numeric('enrolled_faces', 'Enrolled faces', '已注册人脸数', 'count', 0, 1_000_000, { integer: true }),
  ],
  events,
  eventAttributes: {
    gateId: ref('Gate lane or terminal'),
    direction: oneOf(['in', 'out'], 'Direction of passage'),
    personRef: ref('Matched person in the site registry or the vendor system'),
    score: score('Vendor similarity score of the best match, 0–100'),
    threshold: score('Similarity threshold the gate applied, 0–100'),
    livenessScore: score('Vendor liveness (anti-spoofing) score, 0–100'),
    templateHash: hashRef('Salted hash of the probe face template, to correlate repeat visits without a face'),
  },
  heartbeat: contract,
  rules: [
    eventAlarm(eventSpec(events, 'face.blocklist_match')),
    // Supervisory, as the kind classes it; momentary: each stranger is one look.
    eventAlarm(eventSpec(events, 'face.stranger'), { clearAfterS: 0 }),
    eventAlarm(eventSpec(events, 'face.liveness_failed')),
    repeatedFaceFailures(),
    ...eventAlarms(events, ['tailgating', 'reverse_passage', 'climb_over', 'forced_passage']),
    eventAlarm(eventSpec(events, 'device.tamper'), { clearAfterS: 600 }),
    offline(contract),
  ],
  sample: {
    telemetry: (ctx) =>
      stamp(ctx, {
        temperature: drift(ctx, 'temperature', { start: 38, step: 0.4, min: 25, max: 55, decimals: 1 }),
        cpu_load: drift(ctx, 'cpu_load', { start: 20, step: 5, min: 3, max: 85, decimals: 1 }),
        enrolled_faces: remember(ctx, 'enrolled_faces', () => integerBetween(ctx, 50, 3000)),
      }),
    event: (ctx) =>
      sampleEvent(ctx, events, (type) => {
        const gateId = pick(ctx, remember(ctx, 'gates', () => gatesOf(ctx)));
        const passage = { gateId, direction: pick(ctx, ['in', 'out'] as const) };
        const visitor = sampleDigest(`${ctx.deviceId}/face/${integerBetween(ctx, 1, 500)}`);
        switch (type) {
          case 'face.verified':
            return {
              ...passage,
              personRef: `P${String(integerBetween(ctx, 1, 200)).padStart(4, '0')}`,
              score: between(ctx, THRESHOLD, 99, 1),
              threshold: THRESHOLD,
              livenessScore: between(ctx, 90, 100, 1),
              templateHash: visitor,
            };
          case 'face.failed':
          case 'face.stranger':
            return {
              ...passage,
              score: between(ctx, 20, THRESHOLD - 1, 1),
              threshold: THRESHOLD,
              livenessScore: between(ctx, 80, 100, 1),
              templateHash: visitor,
            };
          case 'face.blocklist_match':
            return {
              ...passage,
              personRef: `B${String(integerBetween(ctx, 1, 20)).padStart(3, '0')}`,
              score: between(ctx, 85, 99, 1),
              threshold: THRESHOLD,
              templateHash: visitor,
            };
          case 'face.liveness_failed':
            return { ...passage, livenessScore: between(ctx, 0, 40, 1), templateHash: visitor };
          case 'face.repeated_failures':
            return { ...passage, templateHash: visitor };
          case 'tailgating':
          case 'reverse_passage':
          case 'climb_over':
          case 'forced_passage':
            return passage;
          case 'device.tamper':
            return { gateId };
          default:
            return {};
        }
      }),
  },
});

/** A terminal serves one or two lanes. */
function gatesOf(ctx: SampleContext): [string, ...string[]] {
  return integerBetween(ctx, 1, 2) === 1 ? ['G1'] : ['G1', 'G2'];
}
