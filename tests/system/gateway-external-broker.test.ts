import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settle, startHarness, until, type Harness } from '../support/gateway-harness.js';

// The whole gateway in external-broker mode against Debian's Mosquitto on 127.0.0.1:1883
// (.ci/install-system-deps.sh starts it). Device auth is the external broker's job here; this
// Mosquitto allows anonymous loopback clients, so devices connect without credentials.
const BROKER = 'mqtt://127.0.0.1:1883';
const run = randomBytes(4).toString('hex');
const clientId = `gridwatch-test-${run}`;

describe('gateway against an external Mosquitto broker', () => {
  let h: Harness;

  beforeAll(async () => {
    const probe = await mqtt.connectAsync(BROKER, { reconnectPeriod: 0, connectTimeout: 3000 }).catch((err: Error) => {
      throw new Error(`Mosquitto is not reachable at ${BROKER} (run .ci/install-system-deps.sh): ${err.message}`);
    });
    await probe.endAsync();
    h = await startHarness({ GRIDWATCH_MQTT_URL: BROKER, GRIDWATCH_MQTT_CLIENT_ID: clientId });
    await until(() => h.gateway.health().checks.broker?.ok === true, 'the gateway to connect to Mosquitto');
  });

  afterAll(async () => {
    await h?.close();
    // Drop the gateway's persistent session so Mosquitto stops queueing for it.
    const cleaner = await mqtt.connectAsync(BROKER, { clientId, clean: true, reconnectPeriod: 0 });
    await cleaner.endAsync();
  });

  it('ingests readings published to the external broker and serves them through the API', async () => {
    const id = `ext-smoke-${run}`;
    await h.register(id, 'smoke');
    const device = await mqtt.connectAsync(BROKER, { clientId: id, reconnectPeriod: 0 });
    const ts = new Date().toISOString();
    await device.publishAsync(`gridwatch/v1/${id}/telemetry`, JSON.stringify({ ts, seq: 1, temperature: 24.25, battery: 91 }), { qos: 1 });
    await device.publishAsync(`gridwatch/v1/${id}/event`, JSON.stringify({ ts, seq: 2, type: 'self_test', result: 'pass' }), { qos: 1 });
    await device.publishAsync(`gridwatch/v1/${id}/telemetry`, '{"temperature": oops', { qos: 1 });
    await until(() => h.gateway.pipeline.counts.accepted >= 2 && (h.gateway.pipeline.counts.rejectedByReason.malformed_json ?? 0) >= 1, 'the messages to arrive through Mosquitto');
    await settle(h.gateway);

    const readings = await h.api('GET', `/api/v1/devices/${id}/readings?measurement=temperature`);
    expect(readings.body.items).toEqual([expect.objectContaining({ value: 24.25 })]);
    const events = await h.api('GET', `/api/v1/devices/${id}/events`);
    expect(events.body.items).toEqual([expect.objectContaining({ type: 'self_test' })]);
    const dead = await h.api('GET', `/api/v1/dead-letters?deviceId=${id}`);
    expect(dead.body.items.map((d: { reason: string }) => d.reason)).toEqual(['malformed_json']);
    const health = await h.api('GET', '/health');
    expect(health.body.checks.broker.detail).toContain('connected');
    await device.endAsync();
  });

  it('rejects, counts and dead-letters messages from devices it does not know', async () => {
    const stranger = await mqtt.connectAsync(BROKER, { clientId: `ext-ghost-${run}`, reconnectPeriod: 0 });
    const before = h.gateway.pipeline.counts.rejectedByReason.unknown_device ?? 0;
    await stranger.publishAsync(`gridwatch/v1/ext-ghost-${run}/telemetry`, JSON.stringify({ battery: 5 }), { qos: 1 });
    await until(() => (h.gateway.pipeline.counts.rejectedByReason.unknown_device ?? 0) > before, 'the unknown device to be counted');
    const c = h.gateway.pipeline.counts;
    expect(c.received).toBe(c.accepted + c.rejected);
    await stranger.endAsync();
  });
});
