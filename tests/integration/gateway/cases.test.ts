/**
 * Grid cases end to end: a smoke alarm published over MQTT becomes an urgent case, registered and
 * dispatched to the building's grid worker (a real webhook receiver) with deadlines and linked to
 * the alert; more alarms from the same building attach to it; the SLA sweep escalates on the
 * gateway's manual clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, NO_VERIFICATION, publishAcked, startHarness, testSite, until, type Harness } from '../../support/gateway-harness.js';
import { WebhookReceiver } from '../../support/webhook-receiver.js';

const SECRET = 'hook-secret-for-tests-0123456789';

function site(hook: string): string {
  return testSite(
    [{ id: 'b1', name: 'Building 1', rules: NO_VERIFICATION }],
    [
      { id: 'cap-1', name: 'Captain One', role: 'captain', scope: ['b1'], channels: [{ type: 'webhook', target: `${hook}/captain` }] },
      { id: 'worker-1', name: 'Worker One', role: 'grid_worker', scope: ['g1'], channels: [{ type: 'webhook', target: `${hook}/worker` }] },
      { id: 'staff-1', name: 'Staff One', role: 'community_staff', scope: ['c1'], channels: [{ type: 'webhook', target: `${hook}/community` }] },
    ],
  );
}



describe('a smoke alarm over MQTT opens an urgent grid case', () => {
  const receiver = new WebhookReceiver();
  // Thursday 2026-11-26 11:00 in Beijing.
  const clock = new ManualClock(Date.parse('2026-11-26T03:00:00Z'));
  let h: Harness;
  let secrets: Record<string, string>;

  beforeAll(async () => {
    await receiver.start();
    h = await startHarness({ GRIDWATCH_WEBHOOK_SECRET: SECRET }, { site: site(receiver.url), clock });
    secrets = { 'smk-1': await h.register('smk-1', 'smoke'), 'smk-2': await h.register('smk-2', 'smoke') };
  });
  afterAll(async () => {
    await h?.close();
    await receiver.stop();
  });

  it('registers and dispatches an urgent case to the grid worker, linked to the alert, with deadlines', async () => {
    const device = await h.connect('smk-1', secrets['smk-1']!);
    await publishAcked(device, 'gridwatch/v1/smk-1/event', { type: 'smoke.alarm', seq: 1 });
    await until(() => receiver.to('/worker').length === 1, 'the grid worker to be told of the dispatched case');
    const notice = receiver.to('/worker')[0]!;
    expect(String(notice.title)).toMatch(/^\[紧急\] 案件 GW-20261126-0001 派遣/);

    const alerts = (await h.api('GET', '/api/v1/alerts?deviceId=smk-1')).body.items;
    expect(alerts).toHaveLength(1);
    const list = await h.api('GET', '/api/v1/cases');
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    const c = list.body.items[0];
    expect(c).toMatchObject({ state: 'dispatched', urgency: 'urgent', category: 'fire', source: 'sensor', assignee: 'worker-1', buildingId: 'b1', gridId: 'g1', alertIds: [alerts[0].id] });
    expect(c.deadlines.dispatch.metAt).toBe('2026-11-26T03:00:00.000Z');
    expect(c.deadlines.accept).toMatchObject({ dueAt: '2026-11-26T04:00:00.000Z', basis: 'clock', metAt: null });
    expect(c.deadlines.handle.dueAt).toBe('2026-11-26T05:00:00.000Z');
    const detail = await h.api('GET', `/api/v1/cases/${c.id}`);
    expect(detail.body.alerts.map((a: { id: string }) => a.id)).toEqual([alerts[0].id]);
    expect(detail.body.history.map((e: { action: string }) => e.action)).toEqual(['opened', 'verify', 'register', 'dispatch']);
    await device.endAsync();
  });

  it('attaches more alarms from the same building to the same case', async () => {
    const device = await h.connect('smk-2', secrets['smk-2']!);
    await publishAcked(device, 'gridwatch/v1/smk-2/event', { type: 'smoke.alarm', seq: 1 });
    await until(async () => (await h.api('GET', '/api/v1/alerts')).body.items.length === 2, 'the second alert');
    await until(async () => (await h.api('GET', '/api/v1/cases')).body.items[0]?.alertIds.length === 2, 'the second alert to be linked');
    const list = (await h.api('GET', '/api/v1/cases')).body.items;
    expect(list).toHaveLength(1);
    const detail = await h.api('GET', `/api/v1/cases/${list[0].id}`);
    expect(detail.body.history.at(-1)).toMatchObject({ action: 'linked', actor: 'system' });
    await h.gateway.outbox.idle();
    expect(receiver.to('/worker')).toHaveLength(1);
    await device.endAsync();
  });

  it('escalates an unaccepted dispatch on the SLA sweep, and the grid worker accepts through the API', async () => {
    clock.advance(61 * 60_000);
    h.gateway.cases.tick();
    await until(() => receiver.to('/worker').length === 2, 'the overdue notice to the grid worker');
    expect(String(receiver.to('/worker')[1]!.title)).toContain('超期 (accept)');
    const [c] = (await h.api('GET', '/api/v1/cases?overdue=true')).body.items;
    expect(c.deadlines.accept.overdueLevel).toBe(1);
    const accepted = await h.api('POST', `/api/v1/cases/${c.id}/transitions`, { action: 'accept', asRole: 'grid_worker', note: 'on site' });
    expect(accepted.status).toBe(200);
    expect(accepted.body.state).toBe('accepted');
  });
});
