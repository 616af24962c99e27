import { describe, expect, it } from 'vitest';
import {
  escapeKey,
  escapeMeasurement,
  eventToLine,
  formatFloat,
  formatInteger,
  readingToLine,
  readingsToLines,
} from '../../../gateway/src/adapters/influx/line-protocol.js';
import { defineKind, type KindDefinition } from '../../../gateway/src/domain/kind.js';
import { event, reading } from './support/fixtures.js';

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
