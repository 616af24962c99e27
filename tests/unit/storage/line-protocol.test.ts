import { describe, expect, it } from 'vitest';
import {
  ALERT_STATE_CODES,
  CASE_STATE_CODES,
  alertChangeToLine,
  caseChangeToLine,
  escapeKey,
  escapeMeasurement,
  eventToLine,
  formatFloat,
  formatInteger,
  readingToLine,
  readingsToLines,
} from '../../../gateway/src/adapters/influx/line-protocol.js';
import type { Alert, AlertChange } from '../../../gateway/src/domain/alerts/types.js';
import { CASE_STATES, type CaseChange } from '../../../gateway/src/domain/cases/types.js';
import { Ingest } from '../../../gateway/src/domain/ingest.js';
import { defineKind, type KindDefinition } from '../../../gateway/src/domain/kind.js';
import type { HierarchyPlace } from '../../../gateway/src/domain/message.js';
import type { Device } from '../../../gateway/src/domain/site.js';
import { event, reading } from './support/fixtures.js';
import { MIN, PLACE_B1, STREET, WORKER, alert as caseAlert, book, changeOf, local } from '../cases/support.js';

const smoke: KindDefinition = defineKind({
  id: 'smoke',
  title: 'Smoke detector',
  titleZh: '烟感',
  description: 'test kind',
  measurements: [
    { name: 'smoke_density', title: 'Smoke', titleZh: '烟雾浓度', unit: 'dB/m', min: 0, max: 10 },
    { name: 'temperature', title: 'Temperature', titleZh: '温度', unit: '°C', min: -40, max: 125 },
    { name: 'battery', title: 'Battery', titleZh: '电量', unit: '%', min: 0, max: 100, integer: true },
  ],
  events: [{ type: 'smoke.alarm', signalClass: 'alarm', title: 'Alarm', titleZh: '火警' }],
  heartbeat: { power: 'battery', intervalS: 3600, offlineAfterS: 10800 },
  sample: { telemetry: () => ({}), event: () => ({ type: 'smoke.alarm' }) },
});
const kinds = (id: string) => (id === 'smoke' ? smoke : undefined);

describe('line protocol', () => {
  it('writes a reading with bounded tags sorted by key, typed fields and a ms timestamp', () => {
    const line = readingToLine(reading('smk-1', 1_700_000_000_123, { temperature: 21, battery: 87, smoke_density: 0.05 }, { seq: 42 }), kinds);
    expect(line).toBe(
      'smoke,building=b-1,device=smk-1,floor=3,kind=smoke battery=87i,smoke_density=0.05,temperature=21.0,seq=42i 1700000000123',
    );
  });

  it('keeps field types stable: whole floats stay floats, integer measurements stay integers', () => {
    const a = readingToLine(reading('d', 1, { temperature: 21, battery: 50 }), kinds);
    const b = readingToLine(reading('d', 2, { temperature: 21.5, battery: 49.6 }), kinds);
    expect(a).toContain('temperature=21.0');
    expect(b).toContain('temperature=21.5');
    expect(a).toContain('battery=50i');
    expect(b).toContain('battery=50i');
    expect(formatFloat(0)).toBe('0.0');
    expect(formatFloat(-3)).toBe('-3.0');
    expect(formatFloat(1e21)).toBe('1e+21');
    expect(formatFloat(1.5e-7)).toBe('1.5e-7');
    expect(formatInteger(2 ** 60)).toBeNull();
  });

  it('writes every measurement as a float when the kind is unknown', () => {
    expect(readingToLine(reading('d', 1, { battery: 50 }, { kind: 'mystery' }), kinds)).toBe(
      'mystery,building=b-1,device=d,floor=3,kind=mystery battery=50.0 1',
    );
  });

  it('leaves out a null floor and the seq of a reading without one', () => {
    expect(readingToLine(reading('d', 5, { temperature: 1.25 }, { floor: null }), kinds)).toBe(
      'smoke,building=b-1,device=d,kind=smoke temperature=1.25 5',
    );
  });

  it('skips non-finite values, and the whole reading when nothing is left', () => {
    expect(readingToLine(reading('d', 5, { temperature: Number.NaN, smoke_density: 1 }), kinds)).toBe(
      'smoke,building=b-1,device=d,floor=3,kind=smoke smoke_density=1.0 5',
    );
    expect(readingToLine(reading('d', 5, { temperature: Infinity }), kinds)).toBeNull();
    expect(readingsToLines([reading('d', 5, { temperature: Infinity }), reading('d', 6, { temperature: 2 })], kinds)).toHaveLength(1);
  });

  it('writes events as device_event with type and class tags, count and seq fields, no attributes', () => {
    const line = eventToLine(
      event('door-1', 1_700_000_000_000, 'door.forced_open', {
        kind: 'door',
        signalClass: 'alarm',
        seq: 9,
        attrs: { personRef: 'p-778', doorId: 'east gate' },
      }),
    );
    expect(line).toBe(
      'device_event,building=b-1,class=alarm,device=door-1,floor=3,kind=door,type=door.forced_open count=1i,seq=9i 1700000000000',
    );
    expect(line).not.toContain('p-778');
  });

  it('escapes commas, spaces and equals signs in tags and keys, commas and spaces in measurements', () => {
    expect(escapeMeasurement('my kind,x=1')).toBe('my\\ kind\\,x=1');
    expect(escapeKey('a b,c=d')).toBe('a\\ b\\,c\\=d');
    const line = readingToLine(reading('dev 1,x=y', 7, { temperature: 1.5 }, { buildingId: 'Tower A' }), kinds);
    expect(line).toBe('smoke,building=Tower\\ A,device=dev\\ 1\\,x\\=y,floor=3,kind=smoke temperature=1.5 7');
  });

  it('replaces newlines and other control characters, which line protocol cannot carry', () => {
    const line = readingToLine(reading('evil\ndevice', 7, { temperature: 1.5 }, { buildingId: 'b\t1' }), kinds);
    expect(line).not.toMatch(/[\n\t]/);
    expect(line).toContain('device=evil\\ device');
    expect(line?.split('\n')).toHaveLength(1);
  });
});

describe('hierarchy tags', () => {
  const place = { gridId: 'g1', communityId: 'c1', streetId: 's1' };

  it('writes grid, community and street on readings and events when the building is placed', () => {
    expect(readingToLine(reading('smk-1', 10, { temperature: 21.5 }, place), kinds)).toBe(
      'smoke,building=b-1,community=c1,device=smk-1,floor=3,grid=g1,kind=smoke,street=s1 temperature=21.5 10',
    );
    expect(eventToLine(event('smk-1', 11, 'smoke.alarm', { ...place, seq: 2 }))).toBe(
      'device_event,building=b-1,class=alarm,community=c1,device=smk-1,floor=3,grid=g1,kind=smoke,street=s1,type=smoke.alarm count=1i,seq=2i 11',
    );
  });

  it('leaves out the levels the registry does not know, and escapes the ones it does', () => {
    expect(readingToLine(reading('d', 5, { temperature: 1.5 }, { gridId: 'grid 7' }), kinds)).toBe(
      'smoke,building=b-1,device=d,floor=3,grid=grid\\ 7,kind=smoke temperature=1.5 5',
    );
  });

  it('are filled by ingest from the directory, asked once per building', () => {
    const devices = new Map<string, Device>(
      ['a', 'b'].map((id) => [id, { id, kind: 'smoke', buildingId: 'b-1', floor: 2, name: null, parentId: null, disabled: false, createdAt: 0 }]),
    );
    const asked: string[] = [];
    const ingest = new Ingest({
      device: (id) => devices.get(id),
      kind: kinds,
      place: (buildingId): HierarchyPlace | undefined => {
        asked.push(buildingId);
        return buildingId === 'b-1' ? { ...place, streetId: '' } : undefined;
      },
    });
    const lines: string[] = [];
    for (const [i, id] of ['a', 'b', 'a'].entries()) {
      const outcome = ingest.decode({
        topic: `gridwatch/v1/${id}/telemetry`,
        payload: new TextEncoder().encode(JSON.stringify({ temperature: 20 + i, seq: i + 1 })),
        publisher: id,
        receivedAt: 1_700_000_000_000 + i,
      });
      expect(outcome.ok).toBe(true);
      if (outcome.ok && outcome.accepted.channel === 'telemetry') lines.push(readingToLine(outcome.accepted.reading, kinds) ?? '');
    }
    expect(asked).toEqual(['b-1']);
    // An empty level is the same as an unknown one: no empty tag value (line protocol forbids it).
    expect(lines[0]).toBe('smoke,building=b-1,community=c1,device=a,floor=2,grid=g1,kind=smoke temperature=20.0,seq=1i 1700000000000');
    ingest.forgetPlaces('b-1');
    expect(ingest.place('b-1')).toEqual({ gridId: 'g1', communityId: 'c1' });
    expect(asked).toEqual(['b-1', 'b-1']);
  });

  it('are simply absent when the directory has no place lookup', () => {
    const ingest = new Ingest({ device: () => undefined, kind: kinds });
    expect(ingest.place('b-1')).toBeUndefined();
  });
});

describe('alert state changes', () => {
  const alert = (over: Partial<Alert> = {}): Alert => ({
    id: 'al-1',
    source: { deviceId: 'door-1', kind: 'door', buildingId: 'b-1', floor: 2 },
    type: 'door.forced_open',
    signalClass: 'alarm',
    title: 'Door forced open',
    titleZh: '强行开门',
    detail: 'Door D1 forced open',
    attrs: { doorId: 'D1', personRef: 'P0001' },
    state: 'active_unack',
    latched: true,
    verification: null,
    raisedAt: 1_000,
    lastSeenAt: 1_000,
    count: 1,
    clearedAt: null,
    acknowledgedAt: null,
    acknowledgedBy: null,
    shelvedUntil: null,
    suppressedBy: null,
    disabled: null,
    escalationLevel: 0,
    nextEscalationAt: 121_000,
    chattering: false,
    closedAt: null,
    history: [{ at: 1_000, event: 'raised', actor: 'system', note: null }],
    ...over,
  });
  const change = (a: Alert, event: string): AlertChange => ({ alert: a, event, notify: [] });

  it('writes alert_event with bounded tags, numeric fields and the time of the history entry', () => {
    expect(alertChangeToLine(change(alert(), 'raised'), { gridId: 'g1', communityId: 'c1', streetId: 's1' })).toBe(
      'alert_event,building=b-1,class=alarm,community=c1,event=raised,grid=g1,kind=door,street=s1,type=door.forced_open count=1i,escalation_level=0i,state=1i 1000',
    );
    const escalated = alert({
      escalationLevel: 1,
      lastSeenAt: 1_000,
      history: [
        { at: 1_000, event: 'raised', actor: 'system', note: null },
        { at: 121_000, event: 'escalated', actor: 'system', note: null },
      ],
    });
    const line = alertChangeToLine(change(escalated, 'escalated'));
    expect(line).toBe('alert_event,building=b-1,class=alarm,event=escalated,kind=door,type=door.forced_open count=1i,escalation_level=1i,state=1i 121000');
    // Nothing unbounded: no alert id, device, detail or attribute values.
    for (const text of ['al-1', 'door-1', 'P0001', 'forced open']) expect(line).not.toContain(text);
  });

  it('codes every alert state as a number, never a string field', () => {
    expect(ALERT_STATE_CODES).toEqual({ normal: 0, active_unack: 1, active_ack: 2, returned_unack: 3 });
    const closed = alert({
      state: 'normal',
      closedAt: 9_000,
      history: [
        { at: 1_000, event: 'raised', actor: 'system', note: null },
        { at: 9_000, event: 'acknowledged', actor: 'tok-1', note: 'checked' },
      ],
    });
    expect(alertChangeToLine(change(closed, 'acknowledged'))).toMatch(/ count=1i,escalation_level=0i,state=0i 9000$/);
  });
});

describe('case changes', () => {
  const at = local('2026-11-26 10:00');

  it('writes case_event per change with bounded tags, numeric fields and the time of the history entry', () => {
    const cases = book();
    const opened = cases.onAlertChange(changeOf(caseAlert('smoke.alarm', at)), PLACE_B1, at);
    // A fire alarm opens an urgent case and takes it straight to dispatched: one line per step.
    const lines = opened.map((c) => caseChangeToLine(c));
    expect(lines.map((l) => /event=([a-z_]+)/.exec(l)?.[1])).toEqual(opened.map((c) => c.action));
    expect(lines.at(-1)).toBe(
      `case_event,building=b1,category=fire,community=c1,event=dispatch,grid=g1,street=s1,urgency=urgent count=1i,overdue=0i,state=${CASE_STATE_CODES.dispatched}i ${at}`,
    );
    const id = opened.at(-1)!.case.id;
    const accepted = cases.act(id, { action: 'accept' }, WORKER, at + 5 * MIN);
    expect(caseChangeToLine(accepted.at(-1)!, { gridId: 'g9', communityId: 'c9', streetId: 's9' })).toBe(
      `case_event,building=b1,category=fire,community=c9,event=accept,grid=g9,street=s9,urgency=urgent count=1i,overdue=0i,state=6i ${at + 5 * MIN}`,
    );
    // Nothing unbounded: no case id, code, title, person or alert id.
    for (const line of lines) for (const text of [id, opened.at(-1)!.case.code, 'worker-1', 'al-', 'tok-']) expect(line).not.toContain(text);
  });

  it('sets overdue=1i when an open case has a passed, unmet step deadline at the change; 0i once closed', () => {
    const cases = book();
    const id = cases.onAlertChange(changeOf(caseAlert('smoke.alarm', at)), PLACE_B1, at).at(-1)!.case.id;
    // Accept is due within 60 clock minutes for an urgent case: the sweep at +61 min fires the overdue rung.
    const late = cases.tick(at + 61 * MIN);
    expect(late.map((c) => c.action)).toEqual(['overdue']);
    expect(caseChangeToLine(late[0]!)).toMatch(new RegExp(`^case_event,.*event=overdue,.* count=1i,overdue=1i,state=4i ${at + 61 * MIN}$`));
    let t = at + 62 * MIN;
    for (const [action, actor] of [['accept', WORKER], ['start', WORKER], ['feedback', WORKER], ['check', STREET], ['close', STREET]] as const) {
      const changes: CaseChange[] = cases.act(id, { action }, actor, (t += MIN));
      if (action === 'close') expect(caseChangeToLine(changes.at(-1)!)).toMatch(new RegExp(` count=1i,overdue=0i,state=${CASE_STATE_CODES.closed}i ${t}$`));
    }
  });

  it('codes every case state with a distinct, stable number', () => {
    expect(Object.keys(CASE_STATE_CODES).sort()).toEqual([...CASE_STATES].sort());
    expect(new Set(Object.values(CASE_STATE_CODES)).size).toBe(CASE_STATES.length);
    expect(CASE_STATE_CODES).toMatchObject({ reported: 1, dispatched: 4, accepted: 6, closed: 11, evaluated: 12, cancelled: 13 });
  });
});
