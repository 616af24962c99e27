/**
 * Fire: one smoke detector alarms, heat climbs on its neighbour's telemetry and the neighbour
 * alarms too. The first alarm is held as 'verifying' (NFPA 72 alarm verification, domain.md §3)
 * until another source in the building agrees; the neighbour's rate-of-rise heat alarm and its own
 * smoke alarm are that agreement, so the first alarm is confirmed and escalates as a fire.
 */
import { defineScenario } from './types.js';

export const fire = defineScenario({
  id: 'fire',
  title: 'Fire: a detector alarms, its neighbour confirms',
  description:
    'The corridor detector on floor 3 reports smoke. On floor 4 the temperature rises by about 20 °C/min ' +
    '(the rate-of-rise heat alarm starts at 8.3 °C/min) and that detector reports smoke as well. ' +
    'The first alarm is verifying until the neighbour agrees, then confirmed.',
  devices: {
    detector: { kind: 'smoke', floor: 3, description: 'Smoke detector in the floor 3 corridor' },
    neighbour: { kind: 'smoke', floor: 4, description: 'Smoke and heat detector in the flat above' },
  },
  steps: [
    { at: 0, device: 'detector', telemetry: { obscuration: 0.03, temperature: 23.5, co: 2, battery: 91, rssi: -88 }, say: 'Both detectors report a quiet baseline' },
    { at: 0, device: 'neighbour', telemetry: { obscuration: 0.02, temperature: 24, co: 1, battery: 88, rssi: -92 } },
    {
      at: '2s',
      device: 'detector',
      event: { type: 'smoke.alarm', zone: 'Z3', measurement: 'obscuration', value: 0.21 },
      say: 'The floor 3 detector alarms: smoke 0.21 dB/m (held as verifying)',
    },
    { at: '10s', device: 'neighbour', telemetry: { obscuration: 0.05, temperature: 27.5 }, say: 'Heat rises on floor 4: 27.5 °C' },
    { at: '20s', device: 'neighbour', telemetry: { obscuration: 0.09, temperature: 31 }, say: '31 °C: about 21 °C/min, past the 8.3 °C/min rate of rise' },
    { at: '30s', device: 'neighbour', telemetry: { obscuration: 0.14, temperature: 35.5 } },
    {
      at: '32s',
      device: 'neighbour',
      event: { type: 'smoke.alarm', zone: 'Z4', measurement: 'obscuration', value: 0.18 },
      say: 'The floor 4 detector alarms too',
    },
  ],
  expect: {
    alerts: [
      { type: 'smoke.alarm', signalClass: 'alarm', deviceRole: 'detector' },
      { type: 'heat.rate_of_rise', signalClass: 'alarm', deviceRole: 'neighbour' },
      { type: 'smoke.alarm', signalClass: 'alarm', deviceRole: 'neighbour' },
    ],
    caseOpened: 'when-cases-exist',
  },
});
