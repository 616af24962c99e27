import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorWithReasonCode } from 'mqtt';
import { publishAcked, settle, startHarness, until, type Harness } from '../../support/gateway-harness.js';

const NOW_ISO = () => new Date().toISOString();

describe('the reading path, end to end on embedded defaults', () => {
  let h: Harness;
  let smokeSecret: string;
  let doorSecret: string;

  beforeAll(async () => {
    h = await startHarness();
    smokeSecret = await h.register('e2e-smoke-1', 'smoke');
    doorSecret = await h.register('e2e-door-1', 'door', 'b2');
  });
  afterAll(async () => h?.close());

  it('stores a reading published over MQTT and serves it through the API', async () => {
    const client = await h.connect('e2e-smoke-1', smokeSecret);
    const ts = NOW_ISO();
    await publishAcked(client, 'gridwatch/v1/e2e-smoke-1/telemetry', { ts, seq: 1, temperature: 23.5, battery: 88 });
    await until(() => h.gateway.pipeline.counts.accepted >= 1, 'the reading to be accepted');
    await settle(h.gateway);

    const readings = await h.api('GET', '/api/v1/devices/e2e-smoke-1/readings?measurement=temperature');
    expect(readings.status).toBe(200);
    expect(readings.body.items).toEqual([expect.objectContaining({ measurement: 'temperature', value: 23.5, ts: new Date(Date.parse(ts)).toISOString() })]);

    const device = await h.api('GET', '/api/v1/devices/e2e-smoke-1');
    expect(device.status).toBe(200);
    expect(device.body).toMatchObject({ id: 'e2e-smoke-1', kind: 'smoke', buildingId: 'b1', status: 'online' });
    expect(JSON.stringify(device.body)).toContain('23.5');
    await client.endAsync();
  });

  it('stores a QoS 1 redelivery (same seq and ts) once', async () => {
    const client = await h.connect('e2e-smoke-1', smokeSecret);
    const before = h.gateway.pipeline.counts;
    const accepted0 = before.accepted;
    const payload = { ts: NOW_ISO(), seq: 42, battery: 77 };
    await publishAcked(client, 'gridwatch/v1/e2e-smoke-1/telemetry', payload);
    await publishAcked(client, 'gridwatch/v1/e2e-smoke-1/telemetry', payload);
    await until(() => (h.gateway.pipeline.counts.rejectedByReason.duplicate ?? 0) >= 1, 'the duplicate to be counted');
    await settle(h.gateway);
    expect(h.gateway.pipeline.counts.accepted - accepted0).toBe(1);
    const readings = await h.api('GET', '/api/v1/devices/e2e-smoke-1/readings?measurement=battery');
    expect(readings.body.items.filter((r: { value: number }) => r.value === 77)).toHaveLength(1);
    await client.endAsync();
  });

  it('refuses a wrong secret with CONNACK 4 and counts it', async () => {
    const err = await h.connect('e2e-smoke-1', 'not-the-secret-at-all').then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ErrorWithReasonCode);
    expect((err as ErrorWithReasonCode).code).toBe(4);
    const metrics = await h.api('GET', '/metrics');
    expect(String(metrics.body)).toMatch(/gridwatch_mqtt_auth_refused_total\{reason="bad_secret"\} [1-9]/);
  });

  it('refuses a device publishing as another device, and the victim has no such reading', async () => {
    const attacker = await h.connect('e2e-door-1', doorSecret);
    attacker.on('error', () => undefined);
    // MQTT 3.1.1 has no negative PUBACK: the broker drops the publish (and may disconnect the client).
    attacker.publish('gridwatch/v1/e2e-smoke-1/telemetry', JSON.stringify({ ts: NOW_ISO(), temperature: 99 }), { qos: 0 });
    await until(async () => /gridwatch_mqtt_acl_refused_total\{action="publish"\} [1-9]/.test(String((await h.api('GET', '/metrics')).body)), 'the ACL refusal to be counted');
    await settle(h.gateway);
    const readings = await h.api('GET', '/api/v1/devices/e2e-smoke-1/readings?measurement=temperature');
    expect(readings.body.items.some((r: { value: number }) => r.value === 99)).toBe(false);
    attacker.end(true);
  });

  it('dead-letters malformed payloads with their reason, and received = accepted + rejected', async () => {
    const client = await h.connect('e2e-smoke-1', smokeSecret);
    await publishAcked(client, 'gridwatch/v1/e2e-smoke-1/telemetry', '{"temperature": 2');
    await publishAcked(client, 'gridwatch/v1/e2e-smoke-1/telemetry', { temperature: 'hot' });
    await publishAcked(client, 'gridwatch/v1/e2e-smoke-1/event', { type: 'no.such.event' });
    await until(() => (h.gateway.pipeline.counts.rejectedByReason.schema_violation ?? 0) >= 2, 'the rejections to be counted');

    const dead = await h.api('GET', '/api/v1/dead-letters?deviceId=e2e-smoke-1');
    expect(dead.status).toBe(200);
    const reasons = dead.body.items.map((d: { reason: string }) => d.reason);
    expect(reasons).toEqual(expect.arrayContaining(['malformed_json', 'schema_violation']));
    expect(dead.body.items.find((d: { reason: string }) => d.reason === 'malformed_json').payload).toBe('{"temperature": 2');

    const c = h.gateway.pipeline.counts;
    expect(c.received).toBe(c.accepted + c.rejected);
    const metrics = String((await h.api('GET', '/metrics')).body);
    expect(metrics).toMatch(/gridwatch_messages_rejected_total\{reason="malformed_json"\} [1-9]/);
    await client.endAsync();
  });

  it('answers health with every check', async () => {
    const health = await h.api('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    expect(Object.keys(health.body.checks)).toEqual(expect.arrayContaining(['broker', 'sink:sqlite']));
  });

  it('keeps devices, secrets and readings across a restart', async () => {
    await h.restart();
    const client = await h.connect('e2e-smoke-1', smokeSecret);
    await publishAcked(client, 'gridwatch/v1/e2e-smoke-1/telemetry', { ts: NOW_ISO(), seq: 1000, co: 3 });
    await until(() => h.gateway.pipeline.counts.accepted >= 1, 'the reading after restart');
    await settle(h.gateway);
    const readings = await h.api('GET', '/api/v1/devices/e2e-smoke-1/readings');
    const measurements = new Set(readings.body.items.map((r: { measurement: string }) => r.measurement));
    expect(measurements).toEqual(new Set(['temperature', 'battery', 'co']));
    await client.endAsync();
  });
});
