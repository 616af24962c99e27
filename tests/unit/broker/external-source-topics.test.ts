import { describe, expect, it } from 'vitest';
import { deviceIdFromTopic, deviceSubscriptions } from '../../../gateway/src/adapters/mqtt/external-source.js';

describe('external broker topics', () => {
  it('subscribes to each device channel under the root', () => {
    expect(deviceSubscriptions('gridwatch/v1')).toEqual(['gridwatch/v1/+/telemetry', 'gridwatch/v1/+/event', 'gridwatch/v1/+/status']);
  });

  it('takes the device id from {root}/{deviceId}/{channel}', () => {
    expect(deviceIdFromTopic('gridwatch/v1/smoke-101/telemetry', 'gridwatch/v1')).toBe('smoke-101');
    expect(deviceIdFromTopic('site/a/gridwatch/v1/door-7/event', 'site/a/gridwatch/v1')).toBe('door-7');
  });

  it.each([
    'gridwatch/v1//telemetry',
    'gridwatch/v1/a b/telemetry',
    'gridwatch/v1/door-7/telemetry/extra',
    'gridwatch/v1/door-7/command',
    'gridwatch/v1/door-7',
    'other/v1/door-7/telemetry',
    'gridwatch/v1',
  ])("gives '' for %s, for the gateway to reject as topic_invalid", (topic) => {
    expect(deviceIdFromTopic(topic, 'gridwatch/v1')).toBe('');
  });
});
