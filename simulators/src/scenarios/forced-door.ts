/**
 * Forced door: the controller reports a door opened without a credential. After the contact
 * debounce (1 s; controllers debounce 0.5–1 s so a bounced contact is not a break-in) the gateway
 * raises a latched security alarm that stays until an operator resets it.
 */
import { defineScenario } from './types.js';

export const forcedDoor = defineScenario({
  id: 'forced-door',
  title: 'Forced door',
  description:
    'Door D1 of the lobby controller is forced open and stays open past the 1 s contact debounce: ' +
    'a latched door.forced_open alarm.',
  devices: {
    door: { kind: 'door', floor: 1, description: 'Access controller of the lobby door' },
  },
  steps: [
    { at: 0, device: 'door', telemetry: { supply_voltage: 12.6, battery: 98, temperature: 24 }, say: 'The controller reports as usual' },
    { at: '1s', device: 'door', event: { type: 'door.forced_open', doorId: 'D1' }, say: 'Door D1 forced open, no credential presented' },
    { at: '3s', say: 'The door stays open past the 1 s debounce' },
  ],
  expect: {
    alerts: [{ type: 'door.forced_open', signalClass: 'alarm', deviceRole: 'door' }],
    caseOpened: 'when-cases-exist',
  },
});
