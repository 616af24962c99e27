/**
 * Denied card: the same unknown card is tried again and again at one reader. Three denials for
 * one credential within 60 s raise the repeated-denials alarm (someone trying a found or cloned
 * card). The credential is a salted hash, never the card number (PIPL art. 51).
 */
import { sampleDigest } from '../../../gateway/src/domain/kinds/factories.js';
import { defineScenario } from './types.js';

const card = sampleDigest('scenario/denied-card/card/unknown-1');
const denied = {
    type: 'access.denied',
    doorId: 'D1',
    readerId: 'R1',
    direction: 'in',
    credentialType: 'card',
    credentialRef: card,
    result: 'denied',
    reasonCode: 'unknown_credential',
} as const;

export const deniedCard = defineScenario({
  id: 'denied-card',
  title: 'Denied card, again and again',
  description:
    'One unknown card is refused three times within 10 s at reader R1: door.repeated_denials ' +
    '(3 per credential within 60 s).',
  devices: {
    door: { kind: 'door', floor: 1, description: 'Access controller of the main entrance' },
  },
  steps: [
    { at: 0, device: 'door', event: denied, say: 'An unknown card is refused' },
    { at: '4s', device: 'door', event: denied, say: 'The same card again' },
    { at: '8s', device: 'door', event: denied, say: 'And a third time' },
  ],
  expect: {
    alerts: [{ type: 'door.repeated_denials', signalClass: 'alarm', deviceRole: 'door' }],
    caseOpened: 'when-cases-exist',
  },
});
