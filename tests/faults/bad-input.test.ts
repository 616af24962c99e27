/**
 * Bad input over MQTT: 100,000+ messages from several devices, about half valid, the rest
 * malformed or hostile, published to a whole in-process gateway. The gateway must stay up, store
 * every valid message, and account for every other one: rejected in the pipeline with the
 * expected reason, or refused by the broker (connection closed; the device reconnects).
 *   tried = accepted + rejected (pipeline) + refused (broker)
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { ErrorWithReasonCode, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settle, startHarness, until, type Harness } from '../support/gateway-harness.js';
import { addTo, report, sum } from './support/figures.js';
import { mulberry32 } from '../../gateway/src/domain/random.js';
import { HostileTraffic } from './support/hostile-messages.js';

const DEVICES = Array.from({ length: 6 }, (_, i) => `bad-in-${i}`);
const PER_DEVICE = 17_000;
const WINDOW = 200;

describe('bad input over MQTT', () => {
  let h: Harness;
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    h = await startHarness();
    for (const id of DEVICES) secrets.set(id, await h.register(id, 'smoke'));
  });
  afterAll(async () => h?.close());

  it('keeps working through 100,000+ hostile and valid messages, stores every valid one and accounts for the rest', async ({ task }) => {
    const traffic = new HostileTraffic(mulberry32(20261126), DEVICES);
    const expected: Record<string, number> = {};
    const refused: Record<string, number> = {};
    const byCategory: Record<string, number> = {};
    const valid = { reading: 0, event: 0 };
    let tried = 0;

    // Unknown devices never get a session (CONNACK 4). Fewer than the throttle's 5 per address,
    // so the devices behind the same loopback address are not blocked by it.
    for (let i = 0; i < 3; i++) {
      tried++;
      const err = await h.connect(`ghost-${i}`, 'no-such-secret').then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ErrorWithReasonCode);
      expect((err as ErrorWithReasonCode).code).toBe(4);
      addTo(refused, 'unknown device (CONNACK 4)');
    }

    /** A hostile topic or oversize payload: the broker closes the connection; count it and go on. */
    async function publishRefused(deviceId: string, topic: string, payload: Buffer): Promise<void> {
      const client = await h.connect(deviceId, secrets.get(deviceId)!, { clientId: `${deviceId}-hostile` });
      client.on('error', () => undefined);
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      client.publish(topic, payload, { qos: 0 });
      await closed;
      client.end(true);
    }

    const started = performance.now();
    await Promise.all(
      DEVICES.map(async (deviceId) => {
        const client: MqttClient = await h.connect(deviceId, secrets.get(deviceId)!);
        const inFlight = new Set<Promise<unknown>>();
        for (let i = 0; i < PER_DEVICE; i++) {
          const m = traffic.next(deviceId, Date.now());
          tried++;
          addTo(byCategory, m.category);
          if (m.path === 'broker') {
            await publishRefused(deviceId, m.topic, m.payload);
            addTo(refused, m.category);
            continue;
          }
          addTo(expected, m.expect);
          if (m.stored) valid[m.stored]++;
          const p = client.publishAsync(m.topic, m.payload, { qos: 1 }).finally(() => inFlight.delete(p));
          inFlight.add(p);
          if (inFlight.size >= WINDOW) await Promise.race(inFlight);
        }
        await Promise.all(inFlight);
        await client.endAsync();
      }),
    );
    const seconds = (performance.now() - started) / 1000;

    const c = h.gateway.pipeline.counts;
    await until(() => c.received === tried - sum(refused), 'the pipeline to have every message the broker let through', 30_000);
    await settle(h.gateway);

    // Stays up: health and the API answer.
    const health = await h.api('GET', '/health');
    const crashes = health.status === 200 ? 0 : 1;

    // Every valid message is stored: rows in the embedded time-series database.
    const db = new Database(path.join(h.dataDir, 'gridwatch.db'), { readonly: true });
    const marks = DEVICES.map(() => '?').join(',');
    const readingRows = (db.prepare(`SELECT count(*) AS n FROM readings WHERE device_id IN (${marks})`).get(...DEVICES) as { n: number }).n;
    const eventRows = (db.prepare(`SELECT count(*) AS n FROM events WHERE device_id IN (${marks})`).get(...DEVICES) as { n: number }).n;
    db.close();
    const lost = valid.reading - readingRows + (valid.event - eventRows);

    const { accepted: _a, ...rejectedExpected } = expected;
    report(task, {
      scenario: 'bad input over MQTT',
      tried,
      accepted: c.accepted,
      rejected: { ...c.rejectedByReason },
      refusedByBroker: refused,
      lost,
      crashes,
      notes: { seconds: seconds.toFixed(1), messagesPerSecond: Math.round(tried / seconds), listenerErrors: c.listenerErrors },
    });

    expect(tried).toBeGreaterThanOrEqual(100_000);
    expect(crashes).toBe(0);
    expect(c.received).toBe(c.accepted + c.rejected);
    expect(tried).toBe(c.accepted + c.rejected + sum(refused));
    expect(c.accepted).toBe(expected.accepted);
    expect(c.rejectedByReason).toEqual(rejectedExpected);
    expect(readingRows).toBe(valid.reading);
    expect(eventRows).toBe(valid.event);
    expect(lost).toBe(0);
    expect(c.listenerErrors).toBe(0);
    // The broker counted the topic refusals it saw (wildcard topics are cut by aedes itself first).
    const metrics = String((await h.api('GET', '/metrics')).body);
    expect(metrics).toMatch(/gridwatch_mqtt_acl_refused_total\{action="publish"\} [1-9]/);
    expect(metrics).toMatch(/gridwatch_mqtt_auth_refused_total\{reason="unknown_device"\} 3/);
    for (const reason of Object.keys(rejectedExpected)) {
      expect(metrics).toContain(`gridwatch_messages_rejected_total{reason="${reason}"} ${c.rejectedByReason[reason as keyof typeof c.rejectedByReason]}`);
    }
    // Every category the brief names was exercised.
    expect(Object.keys(byCategory).length).toBeGreaterThanOrEqual(18);

    // A valid device still gets through afterwards.
    const after = await h.connect(DEVICES[0]!, secrets.get(DEVICES[0]!)!);
    await after.publishAsync(`gridwatch/v1/${DEVICES[0]}/telemetry`, JSON.stringify({ ts: Date.now(), temperature: 21 }), { qos: 1 });
    await after.endAsync();
    expect(mqtt).toBeDefined();
  });
});
