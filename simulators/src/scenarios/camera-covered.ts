/**
 * Camera covered: something is put over the lens. The camera keeps streaming and reports the
 * occlusion (Hikvision shelteralarm, ONVIF tampering) with every diagnosis; the gateway raises a
 * supervisory alert: the camera works, but it no longer protects anything.
 */
import { defineScenario } from './types.js';

export const cameraCovered = defineScenario({
  id: 'camera-covered',
  title: 'Camera lens covered',
  description:
    'The car-park camera keeps streaming but its lens is covered: video.occluded (supervisory), ' +
    'active for as long as the camera keeps reporting it.',
  devices: {
    camera: { kind: 'camera', floor: 1, description: 'Camera at the car-park entrance' },
  },
  steps: [
    {
      at: 0,
      device: 'camera',
      telemetry: { fps: 25, bitrate: 4096, last_frame_age: 0.3, storage_free: 380, temperature: 39.5 },
      say: 'The camera streams normally',
    },
    { at: '2s', device: 'camera', event: { type: 'video.occluded', channel: 1 }, say: 'The lens is covered' },
    { at: '4s', device: 'camera', telemetry: { fps: 25, bitrate: 1024, last_frame_age: 0.3 }, say: 'Still streaming: a dark, flat picture' },
    { at: '6s', device: 'camera', event: { type: 'video.occluded', channel: 1 }, say: 'The camera reports the occlusion again' },
  ],
  expect: {
    alerts: [{ type: 'video.occluded', signalClass: 'supervisory', deviceRole: 'camera' }],
    caseOpened: false,
  },
});
