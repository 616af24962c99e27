import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, NO_VERIFICATION, publishAcked, startHarness, testSite, until, type Harness } from '../../support/gateway-harness.js';
import { WebhookReceiver } from '../../support/webhook-receiver.js';

const SECRET = 'hook-secret-for-tests-0123456789';

function site(hook: string, verification: boolean): string {
  return testSite(
    [{ id: 'b1', name: 'Building 1', ...(verification ? {} : { rules: NO_VERIFICATION }) }],
    [
      { id: 'cap-1', name: 'Captain One', role: 'captain', scope: ['b1'], channels: [{ type: 'webhook', target: `${hook}/captain` }] },
      { id: 'worker-1', name: 'Worker One', role: 'grid_worker', scope: ['g1'], channels: [{ type: 'webhook', target: `${hook}/worker` }] },
      { id: 'staff-1', name: 'Staff One', role: 'community_staff', scope: ['c1'], channels: [{ type: 'webhook', target: `${hook}/community` }] },
    ],
  );
}



describe('a smoke alarm, end to end: one alert, one captain notice, escalation at T1', () => {
  const receiver = new WebhookReceiver();
  const clock = new ManualClock(Date.parse('2026-11-26T03:00:00Z'));
  let h: Harness;
  let secret: string;

  beforeAll(async () => {
    await receiver.start();
    h = await startHarness({ GRIDWATCH_WEBHOOK_SECRET: SECRET }, { site: site(receiver.url, false), clock });
    secret = await h.register('smk-1', 'smoke');
  });
  afterAll(async () => {
    await h?.close();
    await receiver.stop();
  });

  it('raises one alert and tells the captain once, however often the detector repeats itself', async () => {
    const device = await h.connect('smk-1', secret);
    await publishAcked(device, 'gridwatch/v1/smk-1/event', { type: 'smoke.alarm', seq: 1 });
    await until(() => receiver.alertsTo('/captain').length === 1, 'the captain to be notified');
    const first = receiver.alertsTo('/captain')[0]!;
    expect(receiver.received[0]?.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);

    for (let seq = 2; seq <= 51; seq++) await publishAcked(device, 'gridwatch/v1/smk-1/event', { type: 'smoke.alarm', seq });
    await until(() => h.gateway.pipeline.counts.accepted >= 51, 'all 51 alarms to be accepted');
    await h.gateway.outbox.idle();

    const alerts = await h.api('GET', '/api/v1/alerts?deviceId=smk-1');
    expect(alerts.status).toBe(200);
    expect(alerts.body.items).toHaveLength(1);
    const alert = alerts.body.items[0];
    expect(alert).toMatchObject({ type: 'smoke.alarm', signalClass: 'alarm', state: 'active_unack', count: 51 });
    expect(receiver.alertsTo('/captain')).toHaveLength(1);
    expect(JSON.stringify(first)).toContain(alert.id);
    expect(receiver.alertsTo('/worker')).toHaveLength(0);
    await device.endAsync();
  });

  it('tells the grid worker when nobody acknowledges within T1 (60 s for alarms), and not before', async () => {
    clock.advance(59_000);
    h.gateway.alerting.tick();
    await h.gateway.outbox.idle();
    expect(receiver.alertsTo('/worker')).toHaveLength(0);

    clock.advance(1_000);
    h.gateway.alerting.tick();
    await until(() => receiver.alertsTo('/worker').length === 1, 'the grid worker to be told at T1');
    const alerts = await h.api('GET', '/api/v1/alerts?deviceId=smk-1');
    expect(alerts.body.items[0]).toMatchObject({ escalationLevel: 1 });
  });

  it('stops escalating once the captain acknowledges through the API', async () => {
    const [alert] = (await h.api('GET', '/api/v1/alerts?deviceId=smk-1')).body.items;
    const ack = await h.api('POST', `/api/v1/alerts/${alert.id}/ack`, { note: 'on my way' });
    expect(ack.status).toBe(200);
    expect(ack.body.state).toBe('active_ack');
    clock.advance(600_000);
    h.gateway.alerting.tick();
    await h.gateway.outbox.idle();
    expect(receiver.alertsTo('/community')).toHaveLength(0);
    const detail = await h.api('GET', `/api/v1/alerts/${alert.id}`);
    expect(detail.body.history.map((e: { event: string }) => e.event)).toEqual(expect.arrayContaining(['raised', 'escalated', 'acknowledged']));
  });
});

describe('alert state survives a restart', () => {
  const receiver = new WebhookReceiver();
  const clock = new ManualClock(Date.parse('2026-11-26T04:00:00Z'));
  let h: Harness;

  beforeAll(async () => receiver.start());
  afterEach(async () => h?.close());
  afterAll(async () => receiver.stop());

  it('continues the escalation timer after a restart and raises nothing twice', async () => {
    h = await startHarness({ GRIDWATCH_WEBHOOK_SECRET: SECRET }, { site: site(receiver.url, false), clock });
    const secret = await h.register('smk-2', 'smoke');
    const device = await h.connect('smk-2', secret);
    await publishAcked(device, 'gridwatch/v1/smk-2/event', { type: 'smoke.alarm', seq: 1 });
    await until(() => receiver.alertsTo('/captain').length === 1, 'the captain to be notified');
    await device.endAsync();

    clock.advance(30_000);
    await h.restart({ GRIDWATCH_WEBHOOK_SECRET: SECRET });
    h.gateway.alerting.tick();
    await h.gateway.outbox.idle();
    expect(receiver.alertsTo('/captain')).toHaveLength(1);
    expect(receiver.alertsTo('/worker')).toHaveLength(0);

    clock.advance(30_000);
    h.gateway.alerting.tick();
    await until(() => receiver.alertsTo('/worker').length === 1, 'the grid worker to be told at T1 after the restart');
    const again = await h.connect('smk-2', secret);
    await publishAcked(again, 'gridwatch/v1/smk-2/event', { type: 'smoke.alarm', seq: 2 });
    await until(() => h.gateway.pipeline.counts.accepted >= 1, 'the repeat to be accepted');
    await h.gateway.outbox.idle();
    const alerts = await h.api('GET', '/api/v1/alerts?deviceId=smk-2');
    expect(alerts.body.items).toHaveLength(1);
    expect(receiver.alertsTo('/captain')).toHaveLength(1);
    await again.endAsync();
  });
});

describe('guessing a device secret', () => {
  const receiver = new WebhookReceiver();
  let h: Harness;

  beforeAll(async () => {
    await receiver.start();
    h = await startHarness({ GRIDWATCH_WEBHOOK_SECRET: SECRET }, { site: site(receiver.url, false), clock: new ManualClock(Date.parse('2026-11-26T05:00:00Z')) });
  });
  afterAll(async () => {
    await h?.close();
    await receiver.stop();
  });

  it('is throttled at the broker and raises one security alarm on the device, told to its captain', async () => {
    await h.register('smk-3', 'smoke');
    const codes: number[] = [];
    for (let i = 0; i < 8; i++) {
      const code = await h.connect('smk-3', `wrong-secret-${i}-xxxxxxxxxxxx`).then(
        () => 0,
        (err: { code?: number }) => err.code ?? -1,
      );
      codes.push(code);
    }
    // Wrong secrets answer "bad username or password" until the throttle closes the door ("not authorized").
    expect(codes.slice(0, 5)).toEqual([4, 4, 4, 4, 4]);
    expect(codes.slice(5)).toEqual([5, 5, 5]);
    const alerts = await h.api('GET', '/api/v1/alerts?deviceId=smk-3');
    await until(() => receiver.alertsTo('/captain').length === 1, 'the captain to be told');
    await h.gateway.outbox.idle();
    // One notice: a one-off alarm that clears in the same instant sends no "cleared" notice.
    expect(receiver.alertsTo('/captain')).toHaveLength(1);
    expect(alerts.body.items).toEqual([expect.objectContaining({ type: 'mqtt.credential_guessing', signalClass: 'alarm', count: 3 })]);
  });
});
