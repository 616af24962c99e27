import { describe, expect, it } from 'vitest';
import {
  clientIdAllowedForDevice,
  emptyClientIdAllowed,
  mayAnonymousPublish,
  mayAnonymousReceive,
  mayAnonymousSubscribe,
  mayDevicePublish,
  mayDeviceReceive,
  mayDeviceSubscribe,
  topicLevels,
} from '../../../broker/src/acl.js';

const LEVELS = 8;

describe('device publish', () => {
  it.each(['telemetry', 'event', 'status'])('allows its own %s topic', (channel) => {
    expect(mayDevicePublish('door-7', `gridwatch/v1/door-7/${channel}`, LEVELS)).toEqual({ ok: true });
  });

  it.each([
    'gridwatch/v1/door-8/telemetry', // another device
    'gridwatch/v1/door-7x/telemetry', // a longer id that starts with its own
    'gridwatch/v1/door/telemetry', // a shorter one
    'gridwatch/v1/door-7/telemetry/x', // extra level
    'gridwatch/v1/door-7/command/open', // commands are for the gateway to send
    'gridwatch/v1/door-7/', // empty channel
    'gridwatch/v1/door-7/+', // wildcards
    'gridwatch/v1/door-7/#',
    'gridwatch/v2/door-7/telemetry',
    'GRIDWATCH/v1/door-7/telemetry', // topics are case-sensitive
    '$SYS/door-7/telemetry',
    'bench/x',
  ])('refuses %s', (topic) => {
    expect(mayDevicePublish('door-7', topic, LEVELS)).toEqual({ ok: false, reason: 'topic_not_permitted' });
  });

  it('refuses too many levels before looking at the topic', () => {
    expect(mayDevicePublish('door-7', 'a/b/c/d/e/f/g/h/i', LEVELS)).toEqual({ ok: false, reason: 'too_many_topic_levels' });
  });
});

describe('device subscribe', () => {
  it.each(['gridwatch/v1/door-7/command/#', 'gridwatch/v1/door-7/command/+', 'gridwatch/v1/door-7/command/unlock'])('allows %s', (filter) => {
    expect(mayDeviceSubscribe('door-7', filter, LEVELS)).toEqual({ ok: true });
  });

  it.each([
    'gridwatch/v1/door-8/command/#',
    'gridwatch/v1/+/command/#',
    'gridwatch/v1/door-7/#',
    'gridwatch/v1/door-7/command',
    'gridwatch/v1/door-7/command/a/b',
    'gridwatch/v1/door-7/command/+/x',
    'gridwatch/v1/door-7/command/un+lock',
    'gridwatch/v1/door-7/telemetry',
    '#',
    '+/#',
    '$SYS/#',
  ])('refuses %s', (filter) => {
    expect(mayDeviceSubscribe('door-7', filter, LEVELS).ok).toBe(false);
  });

  it('receives only its own commands', () => {
    expect(mayDeviceReceive('door-7', 'gridwatch/v1/door-7/command/unlock')).toBe(true);
    expect(mayDeviceReceive('door-7', 'gridwatch/v1/door-8/command/unlock')).toBe(false);
    expect(mayDeviceReceive('door-7', 'gridwatch/v1/door-7/telemetry')).toBe(false);
    expect(mayDeviceReceive('door-7', '$SYS/broker/new/clients')).toBe(false);
  });
});

describe('anonymous clients', () => {
  it('use topics outside gridwatch and $', () => {
    expect(mayAnonymousPublish('bench/x', LEVELS).ok).toBe(true);
    expect(mayAnonymousSubscribe('bench/#', LEVELS).ok).toBe(true);
    expect(mayAnonymousSubscribe('bench/+/x', LEVELS).ok).toBe(true);
    expect(mayAnonymousReceive('bench/x')).toBe(true);
  });

  it.each(['gridwatch', 'gridwatch/v1/x/telemetry', '$SYS/x', 'bench/+'])('may not publish to %s', (topic) => {
    expect(mayAnonymousPublish(topic, LEVELS).ok).toBe(false);
  });

  it.each(['gridwatch/#', '#', '+/v1/+/telemetry', '+', '$SYS/#', '/x'])('may not subscribe to %s (it could match gridwatch or $ topics)', (filter) => {
    expect(mayAnonymousSubscribe(filter, LEVELS).ok).toBe(false);
  });

  it('never receive gridwatch or $ topics', () => {
    expect(mayAnonymousReceive('gridwatch/v1/door-7/command/unlock')).toBe(false);
    expect(mayAnonymousReceive('$SYS/broker/heartbeat')).toBe(false);
  });
});

describe('client ids', () => {
  it("are the device's id or start with {id}- / {id}:", () => {
    expect(clientIdAllowedForDevice('door-7', 'door-7')).toBe(true);
    expect(clientIdAllowedForDevice('door-7', 'door-7-reader')).toBe(true);
    expect(clientIdAllowedForDevice('door-7', 'door-7:lock')).toBe(true);
    expect(clientIdAllowedForDevice('door-7', 'door-70')).toBe(false);
    expect(clientIdAllowedForDevice('door-7', 'door-8')).toBe(false);
    expect(clientIdAllowedForDevice('door-7', '')).toBe(false);
    expect(clientIdAllowedForDevice('door-7', `door-7-${'x'.repeat(200)}`)).toBe(false);
  });

  it('may be empty only with a clean session [MQTT-3.1.3-8]', () => {
    expect(emptyClientIdAllowed(true)).toBe(true);
    expect(emptyClientIdAllowed(false)).toBe(false);
  });
});

it('counts topic levels like the matcher does, empty levels included', () => {
  expect(topicLevels('a')).toBe(1);
  expect(topicLevels('a/b')).toBe(2);
  expect(topicLevels('a//b')).toBe(3);
  expect(topicLevels('/')).toBe(2);
});
