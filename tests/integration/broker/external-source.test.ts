/**
 * The external-broker source against a plain aedes on port 0 standing in for Mosquitto/EMQX (the
 * system tier runs the same source against a real Mosquitto). Here the broker can be stopped and
 * started, which shows the reconnect path.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { connectExternalBroker, type ExternalSource, type ExternalSourceState } from '../../../gateway/src/adapters/mqtt/external-source.js';
import type { DeviceMessage } from '../../../broker/src/types.js';

interface RunningBroker {
  aedes: Aedes;
  server: Server;
  port: number;
}

async function startBroker(port = 0): Promise<RunningBroker> {
  const aedes = await Aedes.createBroker();
  const server = createServer((socket) => aedes.handle(socket));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { aedes, server, port: (server.address() as AddressInfo).port };
}

async function stopBroker(broker: RunningBroker): Promise<void> {
  await new Promise<void>((resolve) => broker.aedes.close(() => resolve()));
  await new Promise<void>((resolve) => broker.server.close(() => resolve()));
}

class Recorder {
  readonly messages: DeviceMessage[] = [];
  readonly states: ExternalSourceState[] = [];
  private waiters: Array<() => void> = [];
  message = (m: DeviceMessage): void => {
    this.messages.push(m);
    this.wake();
  };
  status = (s: ExternalSourceState): void => {
    this.states.push(s);
    this.wake();
  };
  async until(check: () => boolean): Promise<void> {
    while (!check()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const resolve of waiting) resolve();
  }
}

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe('external broker source', () => {
  it('delivers device messages with the id from the topic, and survives a throwing handler', async () => {
    const broker = await startBroker();
    cleanup.push(() => stopBroker(broker));
    const rec = new Recorder();
    let fail = true;
    const source = await connectExternalBroker({
      url: `mqtt://127.0.0.1:${broker.port}`,
      clientId: 'gateway-a',
      onDeviceMessage: (m) => {
        rec.message(m);
        if (fail) {
          fail = false;
          throw new Error('ingest failed');
        }
      },
      onStatus: rec.status,
    });
    cleanup.push(() => source.close());
    expect(source.connected()).toBe(true);

    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup.push(() => device.endAsync());
    await device.publishAsync('gridwatch/v1/smoke-1/telemetry', '{"obscuration":0.1}', { qos: 1 });
    await device.publishAsync('gridwatch/v1/smoke-1/command/x', 'not subscribed', { qos: 1 });
    await device.publishAsync('gridwatch/v1/smoke-1/event', '{"type":"smoke.alarm"}', { qos: 1 });
    await rec.until(() => rec.messages.length === 2);
    expect(rec.messages.map((m) => [m.deviceId, m.topic])).toEqual([
      ['smoke-1', 'gridwatch/v1/smoke-1/telemetry'],
      ['smoke-1', 'gridwatch/v1/smoke-1/event'],
    ]);
    expect(rec.states).toContain('error');
    expect(source.connected()).toBe(true);
  });

  it('reconnects with backoff when the broker comes back, and reports each state', async () => {
    let broker = await startBroker();
    const port = broker.port;
    const rec = new Recorder();
    const source: ExternalSource = await connectExternalBroker({
      url: `mqtt://127.0.0.1:${port}`,
      clientId: 'gateway-b',
      reconnectInitialMs: 20,
      reconnectMaxMs: 100,
      onDeviceMessage: rec.message,
      onStatus: rec.status,
    });
    cleanup.push(() => source.close());
    expect(rec.states).toEqual(['connected']);

    await stopBroker(broker);
    await rec.until(() => rec.states.includes('disconnected'));
    expect(source.connected()).toBe(false);
    await expect(source.publishCommand('door-1', 'unlock', '{}')).rejects.toThrow(/not connected/);

    broker = await startBroker(port);
    const restarted = broker;
    cleanup.push(() => stopBroker(restarted));
    await rec.until(() => source.connected() && rec.states.at(-1) === 'connected');

    // The new broker has no session, so the source subscribed again.
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup.push(() => device.endAsync());
    await device.publishAsync('gridwatch/v1/door-1/status', 'online', { qos: 1, retain: true });
    await rec.until(() => rec.messages.length === 1);
    expect(rec.messages[0]).toMatchObject({ deviceId: 'door-1', topic: 'gridwatch/v1/door-1/status' });
  });

  it('resolves even when the broker is down at start-up, and connects once it is up', async () => {
    const probe = await startBroker();
    const port = probe.port;
    await stopBroker(probe);
    const rec = new Recorder();
    const source = await connectExternalBroker({
      url: `mqtt://127.0.0.1:${port}`,
      clientId: 'gateway-c',
      reconnectInitialMs: 20,
      reconnectMaxMs: 50,
      onDeviceMessage: rec.message,
      onStatus: rec.status,
    });
    cleanup.push(() => source.close());
    expect(source.connected()).toBe(false);
    expect(rec.states).toContain('disconnected');

    const broker = await startBroker(port);
    cleanup.push(() => stopBroker(broker));
    await rec.until(() => source.connected());
  });

  it('refuses a topic root with wildcards', async () => {
    await expect(connectExternalBroker({ url: 'mqtt://127.0.0.1:1', topicRoot: 'gridwatch/+', onDeviceMessage: () => undefined })).rejects.toThrow(/topicRoot/);
  });
});
