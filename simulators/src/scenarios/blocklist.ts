/**
 * Blocklist match at the face gate: a face matches a person on the community's blocklist above
 * the threshold. That is a security alarm: the captain is told at once and it escalates.
 */
import { sampleDigest } from '../../../gateway/src/domain/kinds/factories.js';
import { defineScenario } from './types.js';

export const blocklist = defineScenario({
  id: 'blocklist',
  title: 'Blocklist match at the face gate',
  description: 'A face matches blocklist entry B007 with score 93.4 (threshold 80): face.blocklist_match (alarm).',
  devices: {
    gate: { kind: 'face-gate', floor: 1, description: 'Face-recognition gate at the compound entrance' },
  },
  steps: [
    { at: 0, device: 'gate', telemetry: { temperature: 38.5, cpu_load: 22, enrolled_faces: 812 }, say: 'The gate reports as usual' },
    {
      at: '1s',
      device: 'gate',
      event: {
        type: 'face.blocklist_match',
        gateId: 'G1',
        direction: 'in',
        personRef: 'B007',
        score: 93.4,
        threshold: 80,
        templateHash: sampleDigest('scenario/blocklist/B007'),
      },
      say: 'A face matches blocklist entry B007 (93.4 ≥ 80)',
    },
  ],
  expect: {
    alerts: [{ type: 'face.blocklist_match', signalClass: 'alarm', deviceRole: 'gate' }],
    caseOpened: 'when-cases-exist',
  },
});
