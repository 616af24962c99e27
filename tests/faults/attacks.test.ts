/**
 * Attacks on a whole in-process gateway: guessing a device secret, a device publishing as
 * another, subscribing to another device's topics or to `#`, and API calls without a token, with
 * an expired token, with a captain token for another building, with an expired or tampered ack
 * link. Every one is refused and counted (metrics for MQTT; status codes and the error catalog
 * for HTTP). Time moves on a manual clock (the throttle's block and token expiry).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorWithReasonCode } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAckToken } from '../../gateway/src/adapters/notify/ack-token.js';
import { ManualClock, publishAcked, settle, startHarness, until, type Harness } from '../support/gateway-harness.js';
import { addTo, report, sum } from './support/figures.js';

const metricValue = (text: string, name: string, label: string): number => {
  const m = new RegExp(`^${name}\\{${label}\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
};

describe('attacks', () => {
  const clock = new ManualClock(Date.now());
  let h: Harness;
  let victimSecret: string;
  let attackerSecret: string;
  const refused: Record<string, number> = {};
  let tried = 0;

  beforeAll(async () => {
    h = await startHarness({}, { clock });
    victimSecret = await h.register('atk-victim', 'smoke', 'b1');
    attackerSecret = await h.register('atk-attacker', 'smoke', 'b2');
  });
  afterAll(async () => h?.close());

  const metrics = async () => String((await h.api('GET', '/metrics')).body);
  const connackOf = async (id: string, secret: string, clientId = id) =>
    h.connect(id, secret, { clientId }).then(
      async (c) => {
        await c.endAsync(true);
        return 0;
      },
      (e: unknown) => (e instanceof ErrorWithReasonCode ? e.code : -1),
    );

  it('throttles guessing a device secret: CONNACK 4 five times, then CONNACK 5 even for the right secret, counted', async ({ task }) => {
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) {
      codes.push(await connackOf('atk-victim', `guess-${i}-not-the-secret`));
      tried++;
    }
    expect(codes.slice(0, 5)).toEqual([4, 4, 4, 4, 4]);
    expect(codes.slice(5).every((c) => c === 5)).toBe(true);
    // Blocked means blocked: the right secret does not tell the attacker it was right.
    expect(await connackOf('atk-victim', victimSecret)).toBe(5);
    tried++;
    const m = await metrics();
    expect(metricValue(m, 'gridwatch_mqtt_auth_refused_total', 'reason="bad_secret"')).toBe(5);
    expect(metricValue(m, 'gridwatch_mqtt_auth_refused_total', 'reason="throttled"')).toBe(8);
    // …and alerted: one security alarm on the targeted device, counting the throttled attempts.
    const guessing = (await h.api('GET', '/api/v1/alerts?deviceId=atk-victim')).body.items;
    expect(guessing).toEqual([expect.objectContaining({ type: 'mqtt.credential_guessing', signalClass: 'alarm', count: 8 })]);
    addTo(refused, 'bad secret (CONNACK 4)', 5);
    addTo(refused, 'throttled (CONNACK 5)', 8);

    // After the 30 s block the real device gets back in.
    clock.advance(31_000);
    expect(await connackOf('atk-victim', victimSecret)).toBe(0);
    report(task, { scenario: 'brute force on a device secret', tried: 13, refusedByBroker: { 'bad secret (CONNACK 4)': 5, 'throttled (CONNACK 5)': 8 }, notes: { blockSeconds: 30 } });
  });

  it('refuses a device publishing as another (connection closed, counted) and stores nothing for the victim', async ({ task }) => {
    const before = metricValue(await metrics(), 'gridwatch_mqtt_acl_refused_total', 'action="publish"');
    const attacker = await h.connect('atk-attacker', attackerSecret);
    attacker.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => attacker.once('close', () => resolve()));
    attacker.publish('gridwatch/v1/atk-victim/event', JSON.stringify({ type: 'smoke.alarm', seq: 1 }), { qos: 1 });
    await closed;
    attacker.end(true);
    await until(async () => metricValue(await metrics(), 'gridwatch_mqtt_acl_refused_total', 'action="publish"') === before + 1, 'the refusal to be counted');
    await settle(h.gateway);
    const events = await h.api('GET', '/api/v1/devices/atk-victim/events');
    expect(events.body.items).toEqual([]);
    const victimAlarms = (await h.api('GET', '/api/v1/alerts?deviceId=atk-victim')).body.items.filter((a: { type: string }) => a.type !== 'mqtt.credential_guessing');
    expect(victimAlarms).toEqual([]);
    tried++;
    addTo(refused, 'publish as another device');
    report(task, { scenario: 'device publishing as another', tried: 1, refusedByBroker: { 'publish as another device': 1 } });
  });

  it("refuses subscriptions to another device's topics and to # (SUBACK 0x80, counted)", async ({ task }) => {
    const before = metricValue(await metrics(), 'gridwatch_mqtt_acl_refused_total', 'action="subscribe"');
    const attacker = await h.connect('atk-attacker', attackerSecret);
    // MQTT.js rejects a SUBSCRIBE with any 0x80; the SUBACK it carries has the per-topic answers.
    const suback = await attacker.subscribeAsync(['gridwatch/v1/atk-victim/command/#', '#', 'gridwatch/v1/+/telemetry', '$SYS/#', 'gridwatch/v1/atk-attacker/command/#'], { qos: 1 }).then(
      () => null,
      (e: unknown) => (e as { packet?: { granted?: Array<number | { qos: number }> } }).packet?.granted ?? null,
    );
    expect(suback?.map((g) => (typeof g === 'number' ? g : g.qos))).toEqual([128, 128, 128, 128, 1]);
    const received: string[] = [];
    attacker.on('message', (topic) => received.push(topic));
    const victim = await h.connect('atk-victim', victimSecret);
    await publishAcked(victim, 'gridwatch/v1/atk-victim/telemetry', { ts: clock.now(), seq: 1, temperature: 21 });
    await until(() => h.gateway.pipeline.counts.accepted >= 1, 'the victim reading');
    expect(received).toEqual([]);
    await until(async () => metricValue(await metrics(), 'gridwatch_mqtt_acl_refused_total', 'action="subscribe"') === before + 4, 'the refusals to be counted');
    await attacker.endAsync();
    await victim.endAsync();
    tried += 4;
    addTo(refused, 'subscribe outside own topics', 4);
    report(task, { scenario: "subscribing to another's topics or #", tried: 4, refusedByBroker: { 'subscribe outside own topics': 4 } });
  });

  it('refuses API calls without a token, with a bad or expired token, and a captain outside their building', async ({ task }) => {
    const victim = await h.connect('atk-victim', victimSecret);
    await publishAcked(victim, 'gridwatch/v1/atk-victim/event', { type: 'smoke.alarm', ts: clock.now(), seq: 2 });
    await victim.endAsync();
    const smokeAlarms = async () => (await h.api('GET', '/api/v1/alerts?deviceId=atk-victim')).body.items.filter((a: { type: string }) => a.type === 'smoke.alarm');
    await until(async () => (await smokeAlarms()).length === 1, 'the alarm to be raised');
    const [alert] = await smokeAlarms();

    const answers: Record<string, number> = {};
    const call = async (label: string, method: string, url: string, token: string | null, expectStatus: number, expectCode: string) => {
      const res = await fetch(`${h.gateway.httpUrl()}${url}`, { method, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { error?: { code: string } };
      expect({ label, status: res.status, code: body.error?.code }).toEqual({ label, status: expectStatus, code: expectCode });
      addTo(answers, `${label} → ${res.status}`);
    };
    await call('no token', 'GET', '/api/v1/alerts', null, 401, 'GW_UNAUTHORIZED');
    await call('no token', 'POST', `/api/v1/alerts/${alert.id}/ack`, null, 401, 'GW_UNAUTHORIZED');
    await call('made-up token', 'GET', '/api/v1/devices', 'gw_made_up_token_0123456789abcdef', 401, 'GW_UNAUTHORIZED');

    const captain = await h.api('POST', '/api/v1/tokens', { name: 'captain of b2', role: 'captain', scope: ['b2'] });
    expect(captain.status).toBe(201);
    await call('captain of another building', 'GET', `/api/v1/alerts/${alert.id}`, captain.body.token, 404, 'GW_NOT_FOUND');
    await call('captain of another building', 'POST', `/api/v1/alerts/${alert.id}/ack`, captain.body.token, 404, 'GW_NOT_FOUND');
    await call('captain of another building', 'GET', '/api/v1/devices/atk-victim', captain.body.token, 404, 'GW_NOT_FOUND');
    await call('captain on an admin route', 'GET', '/api/v1/tokens', captain.body.token, 403, 'GW_FORBIDDEN');
    expect((await h.api('GET', '/api/v1/alerts', undefined, captain.body.token)).body.items).toEqual([]);

    const shortLived = await h.api('POST', '/api/v1/tokens', { name: 'short', role: 'admin', expiresAt: new Date(clock.now() + 60_000).toISOString() });
    expect(shortLived.status).toBe(201);
    clock.advance(61_000);
    await call('expired token', 'GET', '/api/v1/devices', shortLived.body.token, 401, 'GW_UNAUTHORIZED');

    // The alert is untouched by all of it.
    expect((await h.api('GET', `/api/v1/alerts/${alert.id}`)).body.state).toBe('active_unack');
    report(task, { scenario: 'API without / with wrong tokens', tried: sum(answers), refusedByApi: answers });
  });

  it('refuses an expired or tampered acknowledge link and leaves the alert unacknowledged', async ({ task }) => {
    const alert = (await h.api('GET', '/api/v1/alerts?deviceId=atk-victim')).body.items[0];
    const key = Buffer.from(readFileSync(path.join(h.dataDir, 'ack-link.key'), 'utf8').trim(), 'base64');
    const expired = signAckToken({ alertId: alert.id, personId: 'p-b1', expiresAt: clock.now() - 1000 }, key);
    const good = signAckToken({ alertId: alert.id, personId: 'p-b1', expiresAt: clock.now() + 3_600_000 }, key);
    const tampered = `${good.slice(0, -3)}${good.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    const forged = signAckToken({ alertId: alert.id, personId: 'p-b1', expiresAt: clock.now() + 3_600_000 }, Buffer.alloc(32, 7));
    const post = async (token: string) => {
      const res = await fetch(`${h.gateway.httpUrl()}/ack/${token}`, { method: 'POST', headers: { accept: 'application/json' } });
      return res.status;
    };
    expect(await post(expired)).toBe(410);
    expect(await post(tampered)).toBe(400);
    expect(await post(forged)).toBe(400);
    expect(await post('..%2F..%2Fetc%2Fpasswd')).toBe(400);
    expect((await h.api('GET', `/api/v1/alerts/${alert.id}`)).body.state).toBe('active_unack');
    report(task, { scenario: 'expired / tampered ack links', tried: 4, refusedByApi: { 'ack link expired → 410': 1, 'ack link invalid → 400': 3 } });
    expect(sum(refused)).toBeGreaterThan(0);
    expect(tried).toBeGreaterThan(0);
  });
});
