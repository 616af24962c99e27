/**
 * Case changes on the live event bus, wired as the gateway does it
 * (`cases.onChange((c) => events.publish(caseEvent(c)))`): one `case` event per committed change,
 * tagged with the case's building (the stream's scope filter reads it), carrying what happened and
 * the case summary exactly as GET /cases lists it.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { caseEvent } from '../../../gateway/src/adapters/http/event-bus.js';
import { CaseSummaryView } from '../../../gateway/src/adapters/http/routes/cases.js';
import { registerTypeboxFormats } from '../../support/typebox-formats.js';
import { createHarness, type Harness } from './harness.js';

registerTypeboxFormats();
const checkSummary = TypeCompiler.Compile(CaseSummaryView);

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
  h.cases.onChange((c) => h.events.publish(caseEvent(c)));
});
afterEach(async () => {
  await h.close();
});

describe('case events on the live bus', () => {
  it('publishes each case change with its building, the action and the listed summary', async () => {
    const before = h.events.publish({ type: 'alert', buildingId: 'b3', data: null }).id;
    const opened = h.cases.open(
      { place: { buildingId: 'b3', gridId: null, communityId: null, streetId: null }, category: 'blocked_fire_door', urgency: 'normal', title: 'Blocked door', description: '' },
      { id: 't-staff-2', role: 'street_dispatcher' },
    );
    const res = await h.request('POST', `/api/v1/cases/${opened.id}/transitions`, h.tokens.staffStreet, { action: 'verify' });
    expect(res.statusCode, res.body).toBe(200);

    const events = h.events.recent(before) ?? [];
    expect(events.map((e) => [e.type, e.buildingId, (e.data as { event: string }).event])).toEqual([
      ['case', 'b3', 'opened'],
      ['case', 'b3', 'verify'],
    ]);
    const last = events[1]!.data as { case: Record<string, unknown> };
    expect(checkSummary.Check(last.case), [...checkSummary.Errors(last.case)].map((e) => `${e.path} ${e.message}`).join('; ')).toBe(true);
    expect(last.case).toMatchObject({ id: opened.id, code: opened.code, state: 'verifying', buildingId: 'b3', gridId: 'g2', communityId: 'c2', streetId: 's1' });
    const listed = (await h.request('GET', '/api/v1/cases', h.tokens.admin)).json().items[0];
    expect(last.case).toEqual(listed);
  });

  it('marks a case overdue as of the change (the SLA sweep’s overdue rung)', () => {
    const c = h.cases.open(
      { place: { buildingId: 'b1', gridId: null, communityId: null, streetId: null }, category: 'fire', urgency: 'urgent', title: 'Smoke in stairwell', description: '' },
      { id: 't-staff-2', role: 'street_dispatcher' },
    );
    const before = h.events.publish({ type: 'alert', buildingId: 'b1', data: null }).id;
    h.clock.advance(48 * 3_600_000);
    const changes = h.cases.tick();
    expect(changes.length).toBeGreaterThan(0);
    const events = (h.events.recent(before) ?? []).filter((e) => e.type === 'case');
    expect(events).toHaveLength(changes.length);
    expect(events.every((e) => (e.data as { case: { id: string; overdue: boolean } }).case.id === c.id)).toBe(true);
    expect((events.at(-1)!.data as { case: { overdue: boolean } }).case.overdue).toBe(true);
  });
});
