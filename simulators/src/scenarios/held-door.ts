/**
 * Held door: a resident badges in and the door is left open. At 75 % of the held-open time
 * (30 s) a supervisory pre-warning asks the captain to get it shut; at 30 s the held-open alert
 * is raised, supervisory in the building's occupied hours and an alarm outside them.
 */
import { sampleDigest } from '../../../gateway/src/domain/kinds/factories.js';
import { defineScenario } from './types.js';

export const heldDoor = defineScenario({
  id: 'held-door',
  title: 'Held door',
  description:
    'A resident opens door D1 with a card and nobody closes it: pre-warning at 22.5 s, held-open alert at 30 s ' +
    '(supervisory in occupied hours, alarm after hours).',
  devices: {
    door: { kind: 'door', floor: 1, description: 'Access controller of the bicycle-room door' },
  },
  steps: [
    {
      at: 0,
      device: 'door',
      event: {
        type: 'access.granted',
        doorId: 'D1',
        readerId: 'R1',
        direction: 'in',
        credentialType: 'card',
        credentialRef: sampleDigest('scenario/held-door/card/42'),
        personRef: 'P0042',
        result: 'granted',
      },
      say: 'A resident badges in at door D1',
    },
    { at: '1s', device: 'door', event: { type: 'door.opened', doorId: 'D1' }, say: 'Door D1 opens' },
    { at: '25s', say: 'Still open: past the pre-warning at 75 % of 30 s' },
    { at: '35s', say: 'Still open: past the 30 s held-open time' },
  ],
  expect: {
    alerts: [
      { type: 'door.held_open.prewarning', signalClass: 'supervisory', deviceRole: 'door' },
      { type: 'door.held_open', signalClass: ['supervisory', 'alarm'], deviceRole: 'door' },
    ],
    caseOpened: 'when-cases-exist',
  },
});
