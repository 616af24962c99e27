import { describe, expect, it } from 'vitest';
import { DEFAULT_INGEST_LIMITS, Ingest, parseTopic, type RawMessage } from '../../../gateway/src/domain/ingest.js';
import { KINDS, kindById } from '../../../gateway/src/domain/kinds/index.js';
import type { Device } from '../../../gateway/src/domain/site.js';

const NOW = Date.parse('2026-11-26T08:00:00Z');

function device(id: string, kind: string, extra: Partial<Device> = {}): Device {
  return { id, kind, buildingId: 'b1', floor: 3, name: null, parentId: null, disabled: false, createdAt: 0, ...extra };
}

const devices = new Map<string, Device>([
  ['smoke-1', device('smoke-1', 'smoke')],
  ['door-1', device('door-1', 'door')],
  ['off-1', device('off-1', 'smoke', { disabled: true })],
  ['alien-1', device('alien-1', 'geiger')],
]);

function ingest(limits = DEFAULT_INGEST_LIMITS): Ingest {
  return new Ingest({ device: (id) => devices.get(id), kind: kindById }, limits);
}

function msg(topic: string, payload: unknown, publisher: string | null = null): RawMessage {
  const bytes = payload instanceof Uint8Array ? payload : new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return { topic, payload: bytes, publisher, receivedAt: NOW };
}

function reasonOf(outcome: ReturnType<Ingest['decode']>): string {
  return outcome.ok ? 'accepted' : outcome.rejection.reason;
}

describe('topic parsing', () => {
  it.each([
    ['gridwatch/v1/dev-1/telemetry', { deviceId: 'dev-1', channel: 'telemetry' }],
    ['gridwatch/v1/dev-1/event', { deviceId: 'dev-1', channel: 'event' }],
    ['gridwatch/v1/dev-1/status', { deviceId: 'dev-1', channel: 'status' }],
  ])('%s routes to its device and channel', (topic, route) => {
    expect(parseTopic(topic)).toEqual(route);
  });

  it.each([
    'gridwatch/v1/dev-1/telemetry/extra',
    'gridwatch/v1/dev-1/command',
    'gridwatch/v1//telemetry',
    'gridwatch/v1/+/telemetry',
    'gridwatch/v1/#/event',
    'gridwatch/v1/../telemetry',
    'gridwatch/v2/dev-1/telemetry',
    'other/dev-1/telemetry',
    '$SYS/broker/uptime',
  ])('%s is not a device topic', (topic) => {
    expect(parseTopic(topic)).toBeNull();
  });
});

describe('ingest decisions', () => {
  it('accepts a valid sample of every kind on both channels, keeping only declared measurements', () => {
    for (const kind of KINDS) {
      const id = `${kind.id}-x`;
      devices.set(id, device(id, kind.id));
      const ctx = { rng: () => 0.42, now: NOW, seq: 1, deviceId: id, state: {} };
      const t = ingest().decode(msg(`gridwatch/v1/${id}/telemetry`, kind.sample.telemetry(ctx), id));
      expect(reasonOf(t), kind.id).toBe('accepted');
      if (t.ok && t.accepted.channel === 'telemetry') {
        expect(Object.keys(t.accepted.reading.values).every((n) => kind.measurementsByName.has(n))).toBe(true);
        expect(t.accepted.reading).toMatchObject({ deviceId: id, kind: kind.id, buildingId: 'b1', floor: 3 });
      }
      const e = ingest().decode(msg(`gridwatch/v1/${id}/event`, kind.sample.event({ ...ctx, seq: 2 }), id));
      expect(reasonOf(e), kind.id).toBe('accepted');
      if (e.ok && e.accepted.channel === 'event') expect(kind.eventsByType.get(e.accepted.event.type)?.signalClass).toBe(e.accepted.event.signalClass);
    }
  });

  it('takes the signal class of an event from the kind, never from the payload', () => {
    const out = ingest().decode(msg('gridwatch/v1/smoke-1/event', { type: 'smoke.alarm', ts: NOW }, 'smoke-1'));
    expect(out.ok && out.accepted.channel === 'event' && out.accepted.event.signalClass).toBe('alarm');
  });

  it('uses the gateway clock when the device sends no timestamp, and parses ISO and epoch ms', () => {
    const none = ingest().decode(msg('gridwatch/v1/smoke-1/telemetry', { battery: 90 }, 'smoke-1'));
    expect(none.ok && none.accepted.channel === 'telemetry' && none.accepted.reading.ts).toBe(NOW);
    const iso = ingest().decode(msg('gridwatch/v1/smoke-1/telemetry', { battery: 90, ts: '2026-11-26T07:59:00Z' }, 'smoke-1'));
    expect(iso.ok && iso.accepted.channel === 'telemetry' && iso.accepted.reading.ts).toBe(NOW - 60_000);
    const ms = ingest().decode(msg('gridwatch/v1/smoke-1/telemetry', { battery: 90, ts: NOW - 1000 }, 'smoke-1'));
    expect(ms.ok && ms.accepted.channel === 'telemetry' && ms.accepted.reading.ts).toBe(NOW - 1000);
  });

  it.each([
    ['a topic outside the contract', msg('gridwatch/v1/smoke-1/telemetry/x', {}, 'smoke-1'), 'topic_invalid'],
    ['publishing under another device id', msg('gridwatch/v1/door-1/telemetry', { battery: 5 }, 'smoke-1'), 'topic_device_mismatch'],
    ['an unregistered device', msg('gridwatch/v1/ghost/telemetry', { battery: 5 }), 'unknown_device'],
    ['a disabled device', msg('gridwatch/v1/off-1/telemetry', { battery: 5 }, 'off-1'), 'device_disabled'],
    ['a device of an unregistered kind', msg('gridwatch/v1/alien-1/telemetry', { cpm: 5 }, 'alien-1'), 'unknown_kind'],
    ['broken JSON', msg('gridwatch/v1/smoke-1/telemetry', '{"battery": 9', 'smoke-1'), 'malformed_json'],
    ['a JSON array', msg('gridwatch/v1/smoke-1/telemetry', '[1,2]', 'smoke-1'), 'malformed_json'],
    ['a JSON string', msg('gridwatch/v1/smoke-1/telemetry', '"hello"', 'smoke-1'), 'malformed_json'],
    ['invalid UTF-8', msg('gridwatch/v1/smoke-1/telemetry', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 'smoke-1'), 'invalid_utf8'],
    ['a wrong type', msg('gridwatch/v1/smoke-1/telemetry', { battery: 'full' }, 'smoke-1'), 'schema_violation'],
    ['a value out of its range', msg('gridwatch/v1/smoke-1/telemetry', { battery: 250 }, 'smoke-1'), 'schema_violation'],
    ['NaN smuggled as a string', msg('gridwatch/v1/smoke-1/telemetry', { battery: 'NaN' }, 'smoke-1'), 'schema_violation'],
    ['an undeclared field', msg('gridwatch/v1/smoke-1/telemetry', { battery: 50, humidity: 40 }, 'smoke-1'), 'schema_violation'],
    ['an empty telemetry object', msg('gridwatch/v1/smoke-1/telemetry', {}, 'smoke-1'), 'schema_violation'],
    ['an event type of another kind', msg('gridwatch/v1/smoke-1/event', { type: 'door.forced_open' }, 'smoke-1'), 'schema_violation'],
    ['an event without type', msg('gridwatch/v1/smoke-1/event', { ts: NOW }, 'smoke-1'), 'schema_violation'],
    ['a payload naming another device', msg('gridwatch/v1/smoke-1/telemetry', { deviceId: 'door-1', battery: 50 }, 'smoke-1'), 'device_id_mismatch'],
    ['a timestamp an hour ahead', msg('gridwatch/v1/smoke-1/telemetry', { battery: 50, ts: NOW + 3600_000 }, 'smoke-1'), 'timestamp_future'],
    ['a timestamp from 2001', msg('gridwatch/v1/smoke-1/telemetry', { battery: 50, ts: '2001-01-01T00:00:00Z' }, 'smoke-1'), 'timestamp_past'],
    ['a timestamp that is not a date', msg('gridwatch/v1/smoke-1/telemetry', { battery: 50, ts: '2026-13-45T99:00:00Z' }, 'smoke-1'), 'schema_violation'],
    ['a status other than online/offline', msg('gridwatch/v1/smoke-1/status', 'sleeping', 'smoke-1'), 'schema_violation'],
  ])('rejects %s', (_label, message, reason) => {
    const out = ingest().decode(message);
    expect(reasonOf(out)).toBe(reason);
    if (!out.ok) expect(out.rejection.detail.length).toBeGreaterThan(0);
  });

  it('rejects an oversize payload before parsing it', () => {
    const big = `{"battery": 50, "raw": {"x": "${'a'.repeat(70_000)}"}}`;
    expect(reasonOf(ingest().decode(msg('gridwatch/v1/smoke-1/telemetry', big, 'smoke-1')))).toBe('oversize_payload');
  });

  it('survives deeply nested JSON without crashing', () => {
    const deep = `{"battery": 50, "raw": {"x": ${'['.repeat(5000)}${']'.repeat(5000)}}}`;
    expect(['accepted', 'schema_violation', 'malformed_json']).toContain(reasonOf(ingest().decode(msg('gridwatch/v1/smoke-1/telemetry', deep, 'smoke-1'))));
  });

  it('accepts status as plain text or JSON, and trusts the topic when an external broker authenticated the device', () => {
    const plain = ingest().decode(msg('gridwatch/v1/smoke-1/status', 'offline'));
    expect(plain.ok && plain.accepted.channel === 'status' && plain.accepted.status.status).toBe('offline');
    const json = ingest().decode(msg('gridwatch/v1/smoke-1/status', { status: 'online' }));
    expect(json.ok && json.accepted.channel === 'status' && json.accepted.status.status).toBe('online');
  });

  it('drops a redelivery (same seq and ts) but not a new message, and keeps channels apart', () => {
    const i = ingest();
    const a = msg('gridwatch/v1/smoke-1/telemetry', { battery: 50, seq: 7, ts: NOW }, 'smoke-1');
    expect(reasonOf(i.decode(a))).toBe('accepted');
    expect(reasonOf(i.decode(a))).toBe('duplicate');
    expect(reasonOf(i.decode(msg('gridwatch/v1/smoke-1/telemetry', { battery: 50, seq: 8, ts: NOW }, 'smoke-1')))).toBe('accepted');
    expect(reasonOf(i.decode(msg('gridwatch/v1/smoke-1/event', { type: 'heartbeat', seq: 7, ts: NOW }, 'smoke-1')))).toBe('accepted');
    // A rebooted device restarting its seq with a new clock reading is not a duplicate.
    expect(reasonOf(i.decode(msg('gridwatch/v1/smoke-1/telemetry', { battery: 50, seq: 7, ts: NOW + 5000 }, 'smoke-1')))).toBe('accepted');
  });

  it('cannot call anything a duplicate when the device sends neither seq nor ts', () => {
    const i = ingest();
    const a = msg('gridwatch/v1/smoke-1/telemetry', { battery: 50 }, 'smoke-1');
    expect(reasonOf(i.decode(a))).toBe('accepted');
    expect(reasonOf(i.decode(a))).toBe('accepted');
  });

  it('forgets old keys beyond its window, so memory per device stays bounded', () => {
    const i = ingest({ ...DEFAULT_INGEST_LIMITS, dedupWindow: 4 });
    const send = (seq: number) => reasonOf(i.decode(msg('gridwatch/v1/smoke-1/telemetry', { battery: 50, seq, ts: NOW }, 'smoke-1')));
    for (let seq = 1; seq <= 5; seq++) expect(send(seq)).toBe('accepted');
    expect(send(5)).toBe('duplicate');
    expect(send(1)).toBe('accepted'); // evicted from the window of 4
  });

  it('keeps vendor raw codes as JSON text and event attributes as given', () => {
    const out = ingest().decode(msg('gridwatch/v1/door-1/event', { type: 'door.forced_open', ts: NOW, doorId: 'D1', raw: { code: 1103 } }, 'door-1'));
    expect(reasonOf(out)).toBe('accepted');
    if (out.ok && out.accepted.channel === 'event') {
      expect(out.accepted.event.attrs).toMatchObject({ doorId: 'D1', raw: '{"code":1103}' });
      expect(out.accepted.event.signalClass).toBe('alarm');
    }
  });
});
