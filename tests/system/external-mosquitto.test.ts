/**
 * The external-broker source against the Mosquitto service on 127.0.0.1:1883 (.ci/run starts
 * it). Every run uses its own device ids and gateway client id, clears the retained messages it
 * creates and ends by discarding its persistent session, so reruns do not see each other.
 */
import { randomBytes } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectExternalBroker, type ExternalSource, type ExternalSourceState } from '../../gateway/src/adapters/mqtt/external-source.js';
import type { DeviceMessage } from '../../broker/src/types.js';

const HOST = '127.0.0.1';
const PORT = 1883;
const URL = `mqtt://${HOST}:${PORT}`;
const run = randomBytes(4).toString('hex');
const gatewayClientId = `gridwatch-gateway-test-${run}`;
const smoke = `smoke-${run}`;
const door = `door-${run}`;

const clients = new Set<MqttClient>();
const sources = new Set<ExternalSource>();
const retainedTopics = new Set<string>();

class Inbox {
  readonly messages: DeviceMessage[] = [];
  readonly states: ExternalSourceState[] = [];
  private waiters: Array<() => void> = [];
  push(message: DeviceMessage): void {
    // Other traffic on the shared broker is not ours to judge.
    if (!message.topic.includes(run)) return;
    this.messages.push(message);
    this.wake();
  }
  state(state: ExternalSourceState): void {
    this.states.push(state);
    this.wake();
  }
  async until(check: () => boolean): Promise<void> {
    while (!check()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const resolve of waiting) resolve();
  }
}

async function startSource(inbox: Inbox): Promise<ExternalSource> {
  const source = await connectExternalBroker({
    url: URL,
    clientId: gatewayClientId,
    reconnectInitialMs: 50,
    reconnectMaxMs: 400,
    onDeviceMessage: (m) => inbox.push(m),
    onStatus: (state) => inbox.state(state),
  });
  sources.add(source);
  return source;
}

async function device(clientId: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(URL, { protocolVersion: 4, clientId: `${clientId}-${randomBytes(2).toString('hex')}`, reconnectPeriod: 0 });
  clients.add(client);
  return client;
}

beforeAll(async () => {
  await new Promise<void>((resolve, reject) => {
    const socket = netConnect(PORT, HOST, () => {
      socket.destroy();
      resolve();
    });
    socket.on('error', (error) =>
      reject(new Error(`Mosquitto is not reachable at ${HOST}:${PORT} (${error.message}). Start it (e.g. 'service mosquitto start', as .ci/run does) and rerun.`)),
    );
  });
});

afterEach(async () => {
  await Promise.all([...sources].map((s) => s.close()));
  sources.clear();
});

afterAll(async () => {
  const cleaner = await mqtt.connectAsync(URL, { protocolVersion: 4, reconnectPeriod: 0 });
  for (const topic of retainedTopics) await cleaner.publishAsync(topic, '', { qos: 1, retain: true });
  await cleaner.endAsync();
  // A clean=true CONNECT with the gateway's client id discards its persistent session [MQTT-3.1.2-6].
  const discard = await mqtt.connectAsync(URL, { protocolVersion: 4, clientId: gatewayClientId, clean: true, reconnectPeriod: 0 });
  await discard.endAsync();
  await Promise.all([...clients].map((c) => c.endAsync(true)));
});

describe('external broker source (Mosquitto)', () => {
  it('delivers device telemetry, events and the retained status with the device id taken from the topic', async () => {
    const inbox = new Inbox();
    const source = await startSource(inbox);
    expect(source.connected()).toBe(true);
    expect(inbox.states).toContain('connected');

    const sensor = await device(smoke);
    const statusTopic = `gridwatch/v1/${smoke}/status`;
    retainedTopics.add(statusTopic);
    await sensor.publishAsync(statusTopic, 'online', { qos: 1, retain: true });
    await sensor.publishAsync(`gridwatch/v1/${smoke}/telemetry`, '{"obscuration":0.02}', { qos: 1 });
    await sensor.publishAsync(`gridwatch/v1/${smoke}/event`, '{"type":"smoke.alarm"}', { qos: 1 });
    await inbox.until(() => inbox.messages.length >= 3);

    expect(inbox.messages.map((m) => ({ deviceId: m.deviceId, topic: m.topic, payload: m.payload.toString(), qos: m.qos }))).toEqual([
      { deviceId: smoke, topic: statusTopic, payload: 'online', qos: 1 },
      { deviceId: smoke, topic: `gridwatch/v1/${smoke}/telemetry`, payload: '{"obscuration":0.02}', qos: 1 },
      { deviceId: smoke, topic: `gridwatch/v1/${smoke}/event`, payload: '{"type":"smoke.alarm"}', qos: 1 },
    ]);
  });

  it("passes a topic whose id level is not a device id on with deviceId '' (the gateway rejects it as topic_invalid)", async () => {
    const inbox = new Inbox();
    await startSource(inbox);
    const sensor = await device(smoke);
    await sensor.publishAsync(`gridwatch/v1/bad id ${run}/telemetry`, '{}', { qos: 1 });
    await inbox.until(() => inbox.messages.length >= 1);
    expect(inbox.messages[0]).toMatchObject({ deviceId: '', topic: `gridwatch/v1/bad id ${run}/telemetry` });
  });

  it('keeps QoS 1 messages published while the gateway is away and delivers them when it comes back (persistent session)', async () => {
    const first = new Inbox();
    const source = await startSource(first);
    await source.close();
    sources.delete(source);
    expect(source.connected()).toBe(false);

    const reader = await device(door);
    await reader.publishAsync(`gridwatch/v1/${door}/event`, '{"type":"door.forced_open"}', { qos: 1 });

    const second = new Inbox();
    await startSource(second);
    await second.until(() => second.messages.length >= 1);
    expect(second.messages[0]).toMatchObject({ deviceId: door, topic: `gridwatch/v1/${door}/event`, qos: 1 });
    expect(second.messages[0]?.payload.toString()).toBe('{"type":"door.forced_open"}');
    expect(first.messages).toEqual([]);
  });

  it('reconnects by itself after the broker drops it, and loses nothing published meanwhile', async () => {
    const inbox = new Inbox();
    const source = await startSource(inbox);

    // Mosquitto closes the older connection when another one takes the client id [MQTT-3.1.4-2].
    const usurper = await mqtt.connectAsync(URL, { protocolVersion: 4, clientId: gatewayClientId, clean: false, reconnectPeriod: 0 });
    await inbox.until(() => inbox.states.includes('disconnected'));
    await usurper.endAsync();

    const reader = await device(door);
    await reader.publishAsync(`gridwatch/v1/${door}/event`, '{"type":"door.held_open"}', { qos: 1 });
    await inbox.until(() => inbox.messages.length >= 1);
    expect(inbox.messages[0]).toMatchObject({ deviceId: door, topic: `gridwatch/v1/${door}/event` });
    await inbox.until(() => source.connected());
    expect(inbox.states.lastIndexOf('connected')).toBeGreaterThan(inbox.states.indexOf('disconnected'));
  });

  it('publishes commands to a device through the broker', async () => {
    const inbox = new Inbox();
    const source = await startSource(inbox);
    const reader = await device(door);
    await reader.subscribeAsync(`gridwatch/v1/${door}/command/#`, { qos: 1 });
    const received = new Promise<string>((resolve) => reader.once('message', (topic, payload) => resolve(`${topic} ${payload.toString()}`)));
    await source.publishCommand(door, 'unlock', '{"durationS":5}');
    expect(await received).toBe(`gridwatch/v1/${door}/command/unlock {"durationS":5}`);
  });
});
