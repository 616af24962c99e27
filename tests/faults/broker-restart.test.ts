/**
 * The embedded broker restarts with the gateway (same port, same data dir). Devices reconnect by
 * themselves; those that take a while to speak again raise no offline alert during the start-up
 * grace, so a restart causes no offline storm. A device that really stays silent is still found
 * offline after the grace (the rule is not simply off). The gateway clock is a manual one, moved
 * past the outage and the grace; the reconnects are real.
 */
import type { MqttClient } from 'mqtt';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kindById } from '../../gateway/src/domain/kinds/index.js';
import { ManualClock, publishAcked, startHarness, until, type Harness } from '../support/gateway-harness.js';
import { freePort } from '../system/support/victoria-metrics.js';
import { report } from './support/figures.js';

const DEVICES = Array.from({ length: 20 }, (_, i) => `restart-door-${i}`);
const DEAD = DEVICES[19]!;

describe('broker restart: reconnects, no false offline storm', () => {
  const clock = new ManualClock(Date.parse('2026-11-26T09:00:00Z'));
  let h: Harness;
  const clients = new Map<string, MqttClient>();

  beforeAll(async () => {
    h = await startHarness({ GRIDWATCH_MQTT_PORT: String(await freePort()) }, { clock });
  });
  afterAll(async () => {
    for (const c of clients.values()) await c.endAsync(true).catch(() => undefined);
    await h?.close();
  });

  it('reconnects every device and raises offline only for the one that stays silent past the grace', async ({ task }) => {
    let seq = 0;
    const heartbeat = (id: string) => publishAcked(clients.get(id)!, `gridwatch/v1/${id}/event`, { type: 'heartbeat', ts: clock.now(), seq: ++seq });
    for (const id of DEVICES) {
      const secret = await h.register(id, 'door');
      const client = mqtt.connect(h.gateway.mqttUrl(), { clientId: id, username: id, password: secret, protocolVersion: 4, reconnectPeriod: 100, connectTimeout: 5000 });
      client.on('error', () => undefined);
      await new Promise<void>((r) => client.once('connect', () => r()));
      clients.set(id, client);
      await heartbeat(id);
    }
    let reconnects = 0;
    for (const c of clients.values()) c.on('connect', () => reconnects++);

    const offlineAfterS = kindById('door')!.heartbeat.offlineAfterS;
    const graceS = Math.max(offlineAfterS, 120);
    // Down for longer than the offline threshold: a naive restart would call every device offline.
    const port = String(new URL(h.gateway.mqttUrl()).port);
    clock.advance(offlineAfterS * 2 * 1000);
    await h.restart({ GRIDWATCH_MQTT_PORT: port });
    await until(() => reconnects >= DEVICES.length && [...clients.values()].every((c) => c.connected), 'every device to reconnect', 15_000);

    const offline = async () => ((await h.api('GET', '/api/v1/alerts?limit=200')).body.items as Array<{ type: string; source: { deviceId: string }; state: string }>).filter((a) => a.type === 'device.offline' && a.state !== 'normal');
    h.gateway.alerting.tick();
    expect(await offline()).toEqual([]);

    // Half speak at once, the rest just before the grace ends; the dead one never.
    for (const id of DEVICES.slice(0, 10)) await heartbeat(id);
    clock.advance((graceS - 1) * 1000);
    h.gateway.alerting.tick();
    expect(await offline()).toEqual([]);
    // The slow half speaks for the first time since the restart; the others send their periodic heartbeat.
    for (const id of DEVICES.slice(0, 19)) await heartbeat(id);
    clock.advance(2_000);
    h.gateway.alerting.tick();
    await until(async () => (await offline()).length === 1, 'the silent device to be found offline', 5_000);
    const found = await offline();
    expect(found.map((a) => a.source.deviceId)).toEqual([DEAD]);
    report(task, {
      scenario: 'broker restart (20 devices, 1 silent)',
      tried: seq,
      accepted: h.gateway.pipeline.counts.accepted,
      notes: { reconnects, falseOfflineAlerts: found.filter((a) => a.source.deviceId !== DEAD).length, graceSeconds: graceS },
    });
  });
});
