/**
 * The simulated fleet against a real in-process aedes broker on port 0, with real MQTT.js
 * clients on both sides. Schedules run at high speed (periods of a few tens of ms); waits are
 * for messages to arrive, never fixed sleeps.
 */
import '../../support/typebox-formats.js';
import { once } from 'node:events';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KINDS } from '../../../gateway/src/domain/kinds/index.js';
import { runFleet, type Fleet, type FleetDevice } from '../../../simulators/src/fleet.js';

interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

let broker: Aedes;
let server: net.Server;
let url: string;
let observer: MqttClient | undefined;
let fleet: Fleet | undefined;
const secrets = new Map<string, string>();

beforeEach(async () => {
  secrets.clear();
  broker = await Aedes.createBroker({
    // The gateway's broker checks username = device id and the secret; a simple stand-in here.
    authenticate: (client, username, password, done) => {
      const ok = username === client.id && secrets.get(username ?? '') === password?.toString();
      if (ok) done(null, true);
      else done(Object.assign(new Error('bad credentials'), { returnCode: 4 }), false);
    },
  });
  secrets.set('observer', 'observer-secret');
  server = net.createServer(broker.handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  vi.useRealTimers();
  await fleet?.stop();
  fleet = undefined;
  await observer?.endAsync(true);
  observer = undefined;
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function devicesOfEveryKind(perKind = 1): FleetDevice[] {
  const devices = KINDS.flatMap((k) =>
    Array.from({ length: perKind }, (_, i) => ({ id: `t-${k.id}-${i + 1}`, kind: k.id, secret: `secret-${k.id}-${i}` })),
  );
  for (const d of devices) secrets.set(d.id, d.secret);
  return devices;
}

async function observe(filter: string): Promise<Received[]> {
  const seen: Received[] = [];
  observer = await mqtt.connectAsync(url, { clientId: 'observer', username: 'observer', password: 'observer-secret', reconnectPeriod: 0 });
  observer.on('message', (topic, payload, packet) => seen.push({ topic, payload: payload.toString(), retain: packet.retain }));
  await observer.subscribeAsync(filter, { qos: 1 });
  return seen;
}

/** Resolves when `done` holds for what has arrived; fails after `ms`. */
async function until(seen: Received[], done: (seen: Received[]) => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done(seen)) {
    if (Date.now() > deadline) throw new Error(`timed out; got ${seen.length} messages: ${seen.slice(-5).map((m) => m.topic).join(', ')}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('simulated fleet', () => {
  it('publishes valid telemetry and events of every kind on each device\'s own topics', async () => {
    const devices = devicesOfEveryKind();
    const seen = await observe('gridwatch/v1/+/+');
    fleet = await runFleet({ mqttUrl: url, devices, telemetryEverySeconds: 1, speed: 25, seed: 5 });
    expect(fleet.stats().connected).toBe(devices.length);

    const count = (id: string, channel: string): number => seen.filter((m) => m.topic === `gridwatch/v1/${id}/${channel}`).length;
    await until(seen, () => devices.every((d) => count(d.id, 'telemetry') >= 3 && count(d.id, 'event') >= 3));

    const checks = new Map(
      KINDS.map((k) => [k.id, { telemetry: TypeCompiler.Compile(k.telemetrySchema), event: TypeCompiler.Compile(k.eventSchema) }]),
    );
    const lastSeq = new Map<string, number>();
    for (const m of seen) {
      const [, , deviceId, channel] = m.topic.split('/');
      const device = devices.find((d) => d.id === deviceId);
      expect(device, m.topic).toBeDefined();
      if (channel === 'status') {
        expect(m.payload).toBe('online');
        continue;
      }
      expect(['telemetry', 'event']).toContain(channel);
      const payload = JSON.parse(m.payload) as Record<string, unknown>;
      const check = checks.get(device!.kind)![channel as 'telemetry' | 'event'];
      expect(check.Check(payload), `${m.topic} ${m.payload}: ${[...check.Errors(payload)].map((e) => e.message).join('; ')}`).toBe(true);
      expect(payload.deviceId).toBe(deviceId);
      expect(typeof payload.ts === 'string' && /^\d{4}-\d{2}-\d{2}T.*Z$/.test(payload.ts)).toBe(true);
      // seq increases per device across both channels (messages of one client arrive in order).
      const seq = payload.seq as number;
      expect(seq).toBeGreaterThan(lastSeq.get(deviceId!) ?? 0);
      lastSeq.set(deviceId!, seq);
    }
    expect(fleet.stats().published).toBeGreaterThanOrEqual(devices.length * 6);
    expect(fleet.stats().errors).toBe(0);
  });

  it('leaves a retained online status, and the Last Will says offline when a device drops', async () => {
    const devices = devicesOfEveryKind();
    fleet = await runFleet({ mqttUrl: url, devices, telemetryEverySeconds: 3600, speed: 1, seed: 1 });

    // A subscriber arriving later still learns every device's status: it is retained.
    const seen = await observe('gridwatch/v1/+/status');
    await until(seen, () => devices.every((d) => seen.some((m) => m.topic === `gridwatch/v1/${d.id}/status` && m.retain)));
    expect(seen.filter((m) => m.retain).every((m) => m.payload === 'online')).toBe(true);

    // Cut one device's connection as a network failure would: no DISCONNECT, so the will fires.
    const victim = devices[0]!;
    const brokerSide = (broker as unknown as { clients: Record<string, { conn: net.Socket }> }).clients[victim.id];
    expect(brokerSide).toBeDefined();
    brokerSide!.conn.destroy();
    await until(seen, () => seen.some((m) => m.topic === `gridwatch/v1/${victim.id}/status` && m.payload === 'offline'));
    // The will is retained: a subscriber arriving now learns the device is offline.
    secrets.set('late', 'late-secret');
    const late = await mqtt.connectAsync(url, { clientId: 'late', username: 'late', password: 'late-secret', reconnectPeriod: 0 });
    const retained = new Promise<string>((resolve) => late.once('message', (_t, payload) => resolve(payload.toString())));
    await late.subscribeAsync(`gridwatch/v1/${victim.id}/status`, { qos: 1 });
    const lateStatus = await retained;
    await late.endAsync(true);
    expect(lateStatus).toBe('offline');
  });

  it('keeps each kind\'s heartbeat schedule scaled by speed, and stops cleanly', async () => {
    // Fake only the fleet's schedule timers; sockets, MQTT.js keepalive and the broker stay real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const devices = devicesOfEveryKind();
    const seen = await observe('gridwatch/v1/+/+');
    const timersBefore = vi.getTimerCount();
    // speed 60: a 60 s camera/door/gate heartbeat every second, the hourly smoke one every minute.
    fleet = await runFleet({ mqttUrl: url, devices, speed: 60, seed: 3 });
    await vi.advanceTimersByTimeAsync(10_000);
    const count = (id: string): number => seen.filter((m) => m.topic === `gridwatch/v1/${id}/telemetry`).length;
    await until(seen, () => devices.every((d) => count(d.id) >= (d.kind === 'smoke' ? 1 : 9)));
    for (const d of devices) {
      // First message within one period, then 0.9–1.1 periods apart: 9–12 in 10 s. The smoke
      // detector's first message comes within 5 s and its next one a minute later.
      if (d.kind === 'smoke') expect(count(d.id), d.id).toBe(1);
      else expect(count(d.id), d.id).toBeLessThanOrEqual(12);
    }

    // Two schedules per device (telemetry, event) are pending while the fleet runs…
    expect(vi.getTimerCount()).toBeGreaterThanOrEqual(timersBefore + 2 * devices.length);
    await fleet.stop();
    expect(fleet.stats().connected).toBe(0);
    await until(seen, () => devices.every((d) => seen.some((m) => m.topic === `gridwatch/v1/${d.id}/status` && m.payload === 'offline')));
    // …and none survives stop(). (Connection timers of the observer and broker may come and go.)
    expect(vi.getTimerCount()).toBeLessThanOrEqual(timersBefore);
    const publishedAtStop = fleet.stats().published;
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(fleet.stats().published).toBe(publishedAtStop);
  });

  it('counts a device the broker refuses as an error and keeps the rest running', async () => {
    const devices = devicesOfEveryKind();
    const impostor = { id: 't-impostor', kind: 'smoke', secret: 'wrong' };
    secrets.set(impostor.id, 'right');
    const lines: string[] = [];
    fleet = await runFleet({ mqttUrl: url, devices: [...devices, impostor], logger: (l) => lines.push(l), speed: 1 });
    expect(fleet.stats().connected).toBe(devices.length);
    expect(fleet.stats().errors).toBeGreaterThanOrEqual(1);
    expect(lines.some((l) => l.startsWith('t-impostor:'))).toBe(true);
  });

  it('refuses unknown kinds and bad device ids before connecting anything', async () => {
    await expect(
      runFleet({ mqttUrl: url, devices: [{ id: 'a/b', kind: 'smoke', secret: 's' }, { id: 'x', kind: 'toaster', secret: 's' }] }),
    ).rejects.toThrow(/'a\/b' is not a valid device id.*unknown kind 'toaster'/);
    await expect(runFleet({ mqttUrl: url, devices: [], speed: 0 })).rejects.toThrow(/speed/);
  });
});
