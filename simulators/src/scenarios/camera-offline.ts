/**
 * Camera offline: the camera reports and sends its heartbeats, then its connection breaks
 * without a DISCONNECT (power cut). The broker publishes its Last Will, `offline` on the retained
 * status topic, and the gateway raises device.offline at once instead of waiting three missed
 * 60 s heartbeats (GB/T 28181 keepalive).
 */
import { defineScenario } from './types.js';

export const cameraOffline = defineScenario({
  id: 'camera-offline',
  title: 'Camera goes offline',
  description:
    'The stairwell camera sends its heartbeat, then loses power: the Last Will raises device.offline (trouble) at once.',
  devices: {
    camera: { kind: 'camera', floor: 1, description: 'Camera in the ground-floor stairwell' },
  },
  steps: [
    {
      at: 0,
      device: 'camera',
      telemetry: { fps: 25, bitrate: 4096, last_frame_age: 0.4, storage_free: 412.5, temperature: 41 },
      say: 'The camera streams normally',
    },
    { at: 0, device: 'camera', event: { type: 'heartbeat', channel: 1 } },
    { at: '2s', device: 'camera', event: { type: 'heartbeat', channel: 1 }, say: 'Heartbeat' },
    { at: '4s', device: 'camera', drop: true, say: 'Power cut: the connection drops and the broker sends the Last Will' },
  ],
  expect: {
    alerts: [{ type: 'device.offline', signalClass: 'trouble', deviceRole: 'camera' }],
    caseOpened: 'when-cases-exist',
  },
});
