/**
 * Stranger at the face gate: a resident passes, then a face matches nobody above the gate's
 * threshold. A stranger at a residential gate is worth a look, not a siren: a momentary
 * supervisory alert, one per look. Faces never leave the gate; only scores and a template hash do.
 */
import { sampleDigest } from '../../../gateway/src/domain/kinds/factories.js';
import { defineScenario } from './types.js';

export const stranger = defineScenario({
  id: 'stranger',
  title: 'Stranger at the face gate',
  description:
    'A resident is verified, then an unknown face scores 41.5 against a threshold of 80: a momentary ' +
    'face.stranger (supervisory) for the captain to look at.',
  devices: {
    gate: { kind: 'face-gate', floor: 1, description: 'Face-recognition gate at the compound entrance' },
  },
  steps: [
    {
      at: 0,
      device: 'gate',
      event: {
        type: 'face.verified',
        gateId: 'G1',
        direction: 'in',
        personRef: 'P0107',
        score: 93.2,
        threshold: 80,
        livenessScore: 98.1,
        templateHash: sampleDigest('scenario/stranger/resident'),
      },
      say: 'A resident is verified at gate G1',
    },
    {
      at: '2s',
      device: 'gate',
      event: {
        type: 'face.stranger',
        gateId: 'G1',
        direction: 'in',
        score: 41.5,
        threshold: 80,
        livenessScore: 96.2,
        templateHash: sampleDigest('scenario/stranger/visitor'),
      },
      say: 'An unknown face: best match 41.5, threshold 80',
    },
  ],
  expect: {
    alerts: [{ type: 'face.stranger', signalClass: 'supervisory', deviceRole: 'gate' }],
    caseOpened: false,
  },
});
