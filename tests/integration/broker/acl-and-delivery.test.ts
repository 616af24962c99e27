import { connect as netConnect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { BrokerHarness } from './broker-harness.js';

let h: BrokerHarness;

beforeEach(async () => {
  h = await new BrokerHarness().start();
  h.devices.set('door-7', { secret: 's3cret-7' });
  h.devices.set('smoke-101', { secret: 's3cret-101' });
});

afterEach(async () => {
  await h.close();
});

/** MQTT variable byte integer (remaining length), [MQTT-2.2.3]. */
function remainingLength(value: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    bytes.push(byte);
  } while (value > 0);
  return Buffer.from(bytes);
}

function nextMessage(client: MqttClient): Promise<{ topic: string; payload: string; qos: number; retain: boolean }> {
  return new Promise((resolve) =>
    client.once('message', (topic, payload, packet) => resolve({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain })),
  );
}

describe('publish ACL', () => {
  it("refuses a publish under another device's id, counts it, drops the connection, and the victim's data stays clean", async () => {
    const spoofer = await h.connectDevice('door-7');
    const closed = h.closed(spoofer);
    spoofer.publish('gridwatch/v1/smoke-101/event', '{"type":"smoke.alarm"}', { qos: 1 });
    await closed;

    expect(h.aclRefused).toEqual([
      { action: 'publish', reason: 'topic_not_permitted', deviceId: 'door-7', clientId: 'door-7', topic: 'gridwatch/v1/smoke-101/event', size: 22 },
    ]);
    // Barrier: the victim's own message arrives, and it is the only one.
    const victim = await h.connectDevice('smoke-101');
    await victim.publishAsync('gridwatch/v1/smoke-101/telemetry', '{"obscuration":0.01}', { qos: 1 });
    await h.until(() => h.messages.length === 1);
    expect(h.messages.map((m) => [m.deviceId, m.topic])).toEqual([['smoke-101', 'gridwatch/v1/smoke-101/telemetry']]);
    // Refusals are reported once, as refusals, not again as client errors.
    expect(h.clientErrors).toEqual([]);
  });

  it.each([
    ['an unknown channel', 'gridwatch/v1/door-7/command/open'],
    ['an extra level', 'gridwatch/v1/door-7/telemetry/extra'],
    ['$SYS', '$SYS/broker/load'],
    ['a topic outside gridwatch', 'bench/x'],
  ])('refuses a device publish to %s', async (_label, topic) => {
    const device = await h.connectDevice('door-7');
    const closed = h.closed(device);
    device.publish(topic, 'x', { qos: 0 });
    await closed;
    expect(h.aclRefused.map((e) => [e.action, e.reason, e.topic])).toEqual([['publish', 'topic_not_permitted', topic]]);
    expect(h.messages).toEqual([]);
  });

  it('refuses an oversize payload (default limit 64 KiB) and counts it', async () => {
    const device = await h.connectDevice('door-7');
    await device.publishAsync('gridwatch/v1/door-7/telemetry', Buffer.alloc(64 * 1024, 0x20), { qos: 1 });
    await h.until(() => h.messages.length === 1);

    const closed = h.closed(device);
    device.publish('gridwatch/v1/door-7/telemetry', Buffer.alloc(64 * 1024 + 1, 0x20), { qos: 1 });
    await closed;
    expect(h.aclRefused).toMatchObject([{ action: 'publish', reason: 'oversize_payload', deviceId: 'door-7', size: 65_537 }]);
    expect(h.messages).toHaveLength(1);
  });

  it('cuts a connection whose packet announces more than the limit, before reading the body', async () => {
    const device = await h.connectDevice('door-7');
    const closed = h.closed(device);
    // A PUBLISH fixed header announcing 1 MB, then only the first bytes of it.
    device.stream.write(Buffer.concat([Buffer.from([0x30]), remainingLength(1_000_000), Buffer.alloc(1_000, 0x20)]));
    await closed;
    expect(h.aclRefused).toMatchObject([{ action: 'publish', reason: 'oversize_payload', deviceId: 'door-7', size: 1_000_000 }]);
  });

  it('cuts an unauthenticated connection that announces an oversize CONNECT', async () => {
    const socket = netConnect(h.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write(Buffer.concat([Buffer.from([0x10]), remainingLength(10_000_000), Buffer.alloc(100)]));
    await ended;
    expect(h.clientErrors.map((e) => e.error.message)).toEqual([expect.stringMatching(/connect of 10000000 bytes exceeds/)]);
    expect(h.authCalls).toEqual([]);
  });

  it('refuses topics with more levels than allowed (default 8), on publish and subscribe', async () => {
    await h.broker.close();
    h = await new BrokerHarness().start({ allowAnonymous: true });
    const client = await h.connect({ clientId: 'bench-deep' });
    expect(await h.suback(client, ['bench/1/2/3/4/5/6/7/8', 'bench/1/2/3/4/5/6/7'])).toEqual([128, 1]);
    const closed = h.closed(client);
    client.publish('bench/1/2/3/4/5/6/7/8', 'x');
    await closed;
    expect(h.aclRefused.map((e) => [e.action, e.reason])).toEqual([
      ['subscribe', 'too_many_topic_levels'],
      ['publish', 'too_many_topic_levels'],
    ]);
  });

  it('survives an ingest handler that throws, and reports it', async () => {
    h.onMessage = () => {
      throw new Error('pipeline exploded');
    };
    const device = await h.connectDevice('door-7');
    await device.publishAsync('gridwatch/v1/door-7/event', '{"type":"door.opened"}', { qos: 1 });
    await device.publishAsync('gridwatch/v1/door-7/event', '{"type":"door.closed"}', { qos: 1 });
    await h.until(() => h.messages.length === 2);
    expect(device.connected).toBe(true);
    expect(h.clientErrors.map((e) => [e.deviceId, e.error.message])).toEqual([
      ['door-7', 'pipeline exploded'],
      ['door-7', 'pipeline exploded'],
    ]);
  });
});

describe('subscribe ACL and commands', () => {
  it('answers 0x80 for foreign, # and $SYS filters and grants the own command topics in the same SUBSCRIBE [MQTT-3.9.3]', async () => {
    const device = await h.connectDevice('door-7');
    const codes = await h.suback(device, [
      'gridwatch/v1/smoke-101/command/#',
      '#',
      '$SYS/#',
      'gridwatch/v1/door-7/telemetry',
      'gridwatch/v1/+/command/#',
      'gridwatch/v1/door-7/command/#',
      'gridwatch/v1/door-7/command/unlock',
    ]);
    expect(codes).toEqual([128, 128, 128, 128, 128, 1, 1]);
    expect(h.aclRefused.filter((e) => e.action === 'subscribe').map((e) => e.topic)).toEqual([
      'gridwatch/v1/smoke-101/command/#',
      '#',
      '$SYS/#',
      'gridwatch/v1/door-7/telemetry',
      'gridwatch/v1/+/command/#',
    ]);

    const received = nextMessage(device);
    await h.broker.publishCommand('door-7', 'unlock', '{"durationS":5}');
    expect(await received).toMatchObject({ topic: 'gridwatch/v1/door-7/command/unlock', payload: '{"durationS":5}', qos: 1 });
  });

  it("does not deliver another device's commands", async () => {
    const door = await h.connectDevice('door-7');
    expect(await h.suback(door, ['gridwatch/v1/door-7/command/+'])).toEqual([1]);
    const messages: string[] = [];
    door.on('message', (topic) => messages.push(topic));
    await h.broker.publishCommand('smoke-101', 'silence', '{}');
    const own = nextMessage(door);
    await h.broker.publishCommand('door-7', 'lock', '{}');
    await own;
    expect(messages).toEqual(['gridwatch/v1/door-7/command/lock']);
  });

  it('refuses malformed commands before publishing', async () => {
    await expect(h.broker.publishCommand('door/7', 'x', '')).rejects.toThrow(/device id/);
    await expect(h.broker.publishCommand('door-7', 'a/b', '')).rejects.toThrow(/command name/);
    await expect(h.broker.publishCommand('door-7', '#', '')).rejects.toThrow(/command name/);
  });

  it('keeps a QoS 1 command for an offline device with a persistent session and delivers it on reconnect', async () => {
    const first = await h.connectDevice('door-7', { clean: false, clientId: 'door-7' });
    expect(await h.suback(first, ['gridwatch/v1/door-7/command/#'])).toEqual([1]);
    await first.endAsync();
    await h.until(() => h.disconnected.length === 1);

    await h.broker.publishCommand('door-7', 'unlock', '{"durationS":5}', { qos: 1 });

    // Listen before the CONNACK: the queued message follows it at once.
    const client = mqtt.connect(h.url, { protocolVersion: 4, reconnectPeriod: 0, clean: false, clientId: 'door-7', username: 'door-7', password: 's3cret-7' });
    const received = nextMessage(client);
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve) => client.once('connect', resolve));
    expect(connack.sessionPresent).toBe(true);
    expect(await received).toMatchObject({ topic: 'gridwatch/v1/door-7/command/unlock', payload: '{"durationS":5}', qos: 1 });
    await client.endAsync();
  });
});

describe('delivery guarantees', () => {
  it('completes QoS 1 (PUBACK) and QoS 2 (PUBREC/PUBREL/PUBCOMP) flows and hands each message over once', async () => {
    const device = await h.connectDevice('smoke-101');
    const acks: string[] = [];
    device.on('packetreceive', (packet) => acks.push(packet.cmd));
    await device.publishAsync('gridwatch/v1/smoke-101/event', '{"type":"prealarm"}', { qos: 1 });
    expect(acks).toEqual(['puback']);
    await device.publishAsync('gridwatch/v1/smoke-101/event', '{"type":"smoke.alarm"}', { qos: 2 });
    expect(acks).toEqual(['puback', 'pubrec', 'pubcomp']);
    await h.until(() => h.messages.length === 2);
    await device.publishAsync('gridwatch/v1/smoke-101/telemetry', '{}', { qos: 1 });
    await h.until(() => h.messages.length === 3);
    expect(h.messages.map((m) => [m.qos, m.payload.toString()])).toEqual([
      [1, '{"type":"prealarm"}'],
      [2, '{"type":"smoke.alarm"}'],
      [1, '{}'],
    ]);
  });

  it("hands over the retained status and, on an ungraceful disconnect, the device's Last Will as its status", async () => {
    const device = await h.connectDevice('smoke-101', {
      will: { topic: 'gridwatch/v1/smoke-101/status', payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    await device.publishAsync('gridwatch/v1/smoke-101/status', 'online', { qos: 1, retain: true });
    await h.until(() => h.messages.length === 1);

    // No DISCONNECT packet: the socket just dies, as when the device loses power [MQTT-3.1.2-8].
    device.stream.destroy();
    await h.until(() => h.messages.length === 2);
    expect(h.messages.map((m) => ({ deviceId: m.deviceId, topic: m.topic, payload: m.payload.toString(), retain: m.retain }))).toEqual([
      { deviceId: 'smoke-101', topic: 'gridwatch/v1/smoke-101/status', payload: 'online', retain: true },
      { deviceId: 'smoke-101', topic: 'gridwatch/v1/smoke-101/status', payload: 'offline', retain: true },
    ]);
  });

  it('publishes no will after a clean DISCONNECT', async () => {
    const device = await h.connectDevice('smoke-101', {
      will: { topic: 'gridwatch/v1/smoke-101/status', payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    await device.endAsync();
    await h.until(() => h.disconnected.length === 1);
    const other = await h.connectDevice('door-7');
    await other.publishAsync('gridwatch/v1/door-7/telemetry', '{}', { qos: 1 });
    await h.until(() => h.messages.length === 1);
    expect(h.messages.map((m) => m.deviceId)).toEqual(['door-7']);
  });

  it("refuses a device whose will names another device's topic (CONNACK 5)", async () => {
    const code = await h.refusalCode({
      clientId: 'door-7',
      username: 'door-7',
      password: 's3cret-7',
      will: { topic: 'gridwatch/v1/smoke-101/event', payload: Buffer.from('{"type":"smoke.alarm"}'), qos: 1, retain: false },
    });
    expect(code).toBe(5);
    expect(h.authRefused.map((e) => e.reason)).toEqual(['will_refused']);
  });
});
