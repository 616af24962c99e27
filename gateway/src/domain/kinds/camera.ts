/**
 * Network camera health (摄像机健康). The gateway watches whether the camera works, not what it
 * sees: stream rate, recording, storage and image-quality diagnostics. Vendor events map onto
 * these types (ONVIF tns1:VideoSource/SignalLoss → video.loss, …/GlobalSceneChange → video.scene_changed,
 * tns1:Device/HardwareFailure/StorageFailure → storage.failure; Hikvision ISAPI videoloss,
 * tamperdetection → video.tamper, shelteralarm → video.occluded, diskfull/diskerror → storage.failure).
 * Offline is derived by the gateway from missing heartbeats and the Last Will, not reported.
 */
import { Type } from '@sinclair/typebox';
import { defineKind } from '../kind.js';
import {
  alarm,
  between,
  drift,
  heartbeat,
  integerBetween,
  mainsPowered,
  numeric,
  pick,
  remember,
  sampleEvent,
  stamp,
  supervisory,
  temperature,
  trouble,
} from './factories.js';
import { eventAlarm, eventAlarms, eventSpec, lowFrameRate, offline, stalledStream } from '../rules/factories.js';

const events = [
  trouble('video.loss', 'Video signal lost', '视频丢失'),
  trouble('storage.failure', 'Storage failure', '存储故障'),
  trouble('storage.missing', 'Storage missing', '无存储'),
  trouble('recording.stopped', 'Recording stopped', '录像停止'),
  trouble('ip_conflict', 'IP address conflict', 'IP 地址冲突'),
  supervisory('video.tamper', 'Video tampering', '视频遮挡/篡改'),
  supervisory('video.occluded', 'Lens occluded', '镜头遮挡'),
  supervisory('video.defocus', 'Out of focus', '图像虚焦'),
  supervisory('video.scene_changed', 'Scene changed', '场景变更'),
  supervisory('video.too_dark', 'Image too dark', '图像过暗'),
  supervisory('video.too_bright', 'Image too bright', '图像过亮'),
  alarm('illegal_login', 'Illegal login attempt', '非法登录'),
  heartbeat(),
] as const;

// GB/T 28181 keepalive every 60 s, offline after three misses.
const contract = mainsPowered(60);

const DETAILS: Readonly<Record<string, readonly [string, ...string[]]>> = {
  'video.loss': ['no signal from sensor', 'encoder stopped'],
  'storage.failure': ['disk error', 'disk full'],
  'storage.missing': ['no SD card'],
  'recording.stopped': ['schedule gap', 'stream interrupted'],
  ip_conflict: ['duplicate address detected'],
  illegal_login: ['5 failed admin logins'],
};

export const cameraKind = defineKind({
  id: 'camera',
  title: 'Network camera',
  titleZh: '网络摄像机',
  description:
    'IP camera or NVR channel reporting stream health (frame rate, bitrate, frame age, free storage) and diagnostic ' +
    'events. Heartbeat every 60 s (GB/T 28181 keepalive); offline after three missed heartbeats.',
  measurements: [
    numeric('fps', 'Frame rate', '帧率', 'fps', 0, 120),
    numeric('bitrate', 'Bitrate', '码率', 'kbit/s', 0, 100_000, { integer: true }),
    numeric('last_frame_age', 'Age of the last frame', '最后一帧时延', 's', 0, 86_400),
    numeric('storage_free', 'Free storage', '剩余存储', 'GB', 0, 100_000),
    temperature(),
  ],
  events,
  eventAttributes: {
    channel: Type.Integer({ minimum: 1, maximum: 256, description: 'Video channel (1 for a single camera; NVR channel)' }),
    detail: Type.String({ maxLength: 256, description: 'Short human-readable detail from the device' }),
  },
  heartbeat: contract,
  rules: [
    // Trouble: cameras repeat an active fault with their heartbeat; five quiet minutes mean it is over.
    ...eventAlarms(events, ['video.loss', 'storage.failure', 'storage.missing', 'recording.stopped', 'ip_conflict'], { clearAfterS: 300 }),
    lowFrameRate(),
    stalledStream(),
    // Supervisory: the image is impaired while the camera keeps reporting it; a scene change is a moment.
    ...eventAlarms(events, ['video.tamper', 'video.occluded', 'video.defocus', 'video.too_dark', 'video.too_bright'], { clearAfterS: 300 }),
    eventAlarm(eventSpec(events, 'video.scene_changed'), { clearAfterS: 0 }),
    eventAlarm(eventSpec(events, 'illegal_login')),
    offline(contract),
  ],
  sample: {
    telemetry: (ctx) =>
      stamp(ctx, {
        fps: drift(ctx, 'fps', { start: 25, step: 0.3, min: 23.5, max: 25, decimals: 1 }),
        bitrate: drift(ctx, 'bitrate', { start: 4096, step: 200, min: 2048, max: 8192, decimals: 0 }),
        last_frame_age: between(ctx, 0, 0.5, 2),
        storage_free: drift(ctx, 'storage_free', { start: 400, step: 2, min: 20, max: 2000, decimals: 1 }),
        temperature: drift(ctx, 'temperature', { start: 42, step: 0.5, min: 20, max: 70, decimals: 1 }),
      }),
    event: (ctx) =>
      sampleEvent(ctx, events, (type) => {
        const channels = remember(ctx, 'channels', () => integerBetween(ctx, 1, 4));
        const channel = integerBetween(ctx, 1, channels);
        const details = DETAILS[type];
        return details ? { channel, detail: pick(ctx, details) } : { channel };
      }),
  },
});
