/**
 * The conformance suite every registered kind passes. It iterates KINDS, so a new kind is tested
 * the moment its registry line exists; there is nothing to add here.
 */
import '../../support/typebox-formats.js';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, it } from 'vitest';
import { commonFields, defaultOfflineAfterS, type KindDefinition } from '../../../gateway/src/domain/kind.js';
import { KINDS, kindById } from '../../../gateway/src/domain/kinds/index.js';
import { SIGNAL_CLASSES } from '../../../gateway/src/domain/signal.js';
import { sampleRun } from './sample-context.js';

const SEEDS = [1, 7, 42, 20250601];
const TELEMETRY_PER_SEED = 500;
const EVENTS_PER_SEED = 5000;
const COMMON = new Set(Object.keys(commonFields()));

function errorsOf(check: ReturnType<typeof TypeCompiler.Compile>, value: unknown): string {
  return [...check.Errors(value)].map((e) => `${e.path}: ${e.message}`).join('; ');
}

/** A telemetry payload that passes: one sample, for the negative tests to spoil. */
function validTelemetry(kind: KindDefinition): Record<string, unknown> {
  return kind.sample.telemetry(sampleRun(1).next());
}

describe('kind registry', () => {
  it('has kinds, each id once', () => {
    expect(KINDS.length).toBeGreaterThan(0);
    const ids = KINDS.map((k) => k.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('gives every schema its own $id', () => {
    const schemaIds = KINDS.flatMap((k) => [k.telemetrySchema.$id, k.eventSchema.$id]);
    expect(schemaIds.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(schemaIds).size).toBe(schemaIds.length);
  });

  it('finds each kind by id and nothing else', () => {
    for (const kind of KINDS) expect(kindById(kind.id)).toBe(kind);
    expect(kindById('no-such-kind')).toBeUndefined();
    expect(kindById('')).toBeUndefined();
  });
});

describe.each(KINDS.map((k) => [k.id, k] as const))('kind %s', (_id, kind) => {
  const telemetry = TypeCompiler.Compile(kind.telemetrySchema);
  const event = TypeCompiler.Compile(kind.eventSchema);

  it('describes itself in English and Chinese', () => {
    expect(kind.title.trim()).not.toBe('');
    expect(kind.titleZh.trim()).not.toBe('');
    expect(kind.description.trim()).not.toBe('');
  });

  it('declares sane measurements', () => {
    expect(kind.measurements.length).toBeGreaterThan(0);
    const names = kind.measurements.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const m of kind.measurements) {
      expect(m.unit, m.name).not.toBe('');
      expect(m.title.trim(), m.name).not.toBe('');
      expect(m.titleZh.trim(), m.name).not.toBe('');
      expect(Number.isFinite(m.min) && Number.isFinite(m.max) && m.min < m.max, m.name).toBe(true);
      expect(COMMON.has(m.name), `${m.name} shadows a common field`).toBe(false);
      expect(kind.measurementsByName.get(m.name)).toBe(m);
    }
  });

  it('declares each event type once, each with a valid signal class', () => {
    const types = kind.events.map((e) => e.type);
    expect(new Set(types).size).toBe(types.length);
    for (const e of kind.events) {
      expect(SIGNAL_CLASSES, e.type).toContain(e.signalClass);
      expect(e.title.trim(), e.type).not.toBe('');
      expect(e.titleZh.trim(), e.type).not.toBe('');
      expect(kind.eventsByType.get(e.type)).toBe(e);
    }
  });

  it('has a heartbeat info event and a sane heartbeat contract', () => {
    expect(kind.eventsByType.get('heartbeat')?.signalClass).toBe('info');
    const hb = kind.heartbeat;
    expect(['mains', 'battery']).toContain(hb.power);
    expect(Number.isInteger(hb.intervalS) && hb.intervalS > 0).toBe(true);
    // Tolerate at least two missed heartbeats and never less than a minute: no offline flapping.
    expect(hb.offlineAfterS).toBeGreaterThanOrEqual(Math.min(defaultOfflineAfterS(hb.intervalS), 2 * hb.intervalS));
    expect(hb.offlineAfterS).toBeGreaterThanOrEqual(60);
    // Mains devices have no reason to sleep; a battery device silent for over a day is not monitored.
    expect(hb.intervalS).toBeLessThanOrEqual(hb.power === 'mains' ? 900 : 86_400);
  });

  it('rejects a telemetry field it does not declare', () => {
    const payload = { ...validTelemetry(kind), not_declared: 1 };
    expect(telemetry.Check(payload)).toBe(false);
  });

  it('rejects telemetry without any field', () => {
    expect(telemetry.Check({})).toBe(false);
  });

  it('rejects every measurement just outside its range, and non-numbers', () => {
    for (const m of kind.measurements) {
      const span = m.integer ? 1 : Math.max(1e-6, (m.max - m.min) * 1e-3);
      expect(telemetry.Check({ [m.name]: m.min }), `${m.name} = min`).toBe(true);
      expect(telemetry.Check({ [m.name]: m.max }), `${m.name} = max`).toBe(true);
      expect(telemetry.Check({ [m.name]: m.min - span }), `${m.name} below min`).toBe(false);
      expect(telemetry.Check({ [m.name]: m.max + span }), `${m.name} above max`).toBe(false);
      expect(telemetry.Check({ [m.name]: String(m.min) }), `${m.name} as a string`).toBe(false);
      if (m.integer && m.max - m.min >= 1) {
        expect(telemetry.Check({ [m.name]: m.min + 0.5 }), `${m.name} fractional`).toBe(false);
      }
    }
  });

  it('rejects an undeclared event type, a missing type and an undeclared attribute', () => {
    expect(event.Check({ type: 'heartbeat' })).toBe(true);
    expect(event.Check({ type: 'not.declared' })).toBe(false);
    expect(event.Check({ ts: new Date(0).toISOString() })).toBe(false);
    expect(event.Check({ type: 'heartbeat', not_declared: true })).toBe(false);
  });

  it('rejects a timestamp that is not a date', () => {
    expect(event.Check({ type: 'heartbeat', ts: 'yesterday' })).toBe(false);
    expect(event.Check({ type: 'heartbeat', ts: '2025-06-01T08:00:00.000Z' })).toBe(true);
    expect(event.Check({ type: 'heartbeat', ts: 1_748_764_800_000 })).toBe(true);
  });

  it('samples telemetry that validates, within every declared range', () => {
    for (const seed of SEEDS) {
      const run = sampleRun(seed);
      for (let i = 0; i < TELEMETRY_PER_SEED; i++) {
        const ctx = run.next();
        const payload = kind.sample.telemetry(ctx);
        expect(telemetry.Check(payload), `seed ${seed} #${i}: ${errorsOf(telemetry, payload)}`).toBe(true);
        expect(payload.seq).toBe(ctx.seq);
        expect(Date.parse(String(payload.ts))).toBe(ctx.now);
        for (const [name, value] of Object.entries(payload)) {
          if (COMMON.has(name)) continue;
          const m = kind.measurementsByName.get(name);
          expect(m, `undeclared measurement ${name}`).toBeDefined();
          if (!m) continue;
          expect(typeof value === 'number' && Number.isFinite(value), `${name} is a finite number`).toBe(true);
          const v = value as number;
          expect(v >= m.min && v <= m.max, `${name} = ${v} outside ${m.min}…${m.max}`).toBe(true);
          if (m.integer) expect(Number.isInteger(v), `${name} = ${v} must be an integer`).toBe(true);
        }
      }
    }
  });

  it('samples events that validate: mostly heartbeats and info, every declared type eventually', () => {
    const seen = new Map<string, number>();
    let total = 0;
    for (const seed of SEEDS) {
      const run = sampleRun(seed);
      for (let i = 0; i < EVENTS_PER_SEED; i++) {
        const ctx = run.next();
        const payload = kind.sample.event(ctx);
        if (!event.Check(payload)) {
          expect.fail(`seed ${seed} #${i} ${JSON.stringify(payload)}: ${errorsOf(event, payload)}`);
        }
        const type = String(payload.type);
        seen.set(type, (seen.get(type) ?? 0) + 1);
        total += 1;
      }
    }
    const missing = kind.events.map((e) => e.type).filter((t) => !seen.has(t));
    expect(missing, 'event types the sample generator never produced').toEqual([]);
    const share = (cls: string): number =>
      [...seen.entries()]
        .filter(([t]) => kind.eventsByType.get(t)?.signalClass === cls)
        .reduce((s, [, n]) => s + n, 0) / total;
    expect(share('info')).toBeGreaterThan(0.75);
    expect(share('alarm')).toBeLessThan(0.02);
  });

  it('samples deterministically from the seed', () => {
    const a = sampleRun(99);
    const b = sampleRun(99);
    for (let i = 0; i < 50; i++) {
      expect(kind.sample.telemetry(a.next())).toEqual(kind.sample.telemetry(b.next()));
      expect(kind.sample.event(a.next())).toEqual(kind.sample.event(b.next()));
    }
    const c = sampleRun(100);
    const first = sampleRun(99);
    const differ = Array.from({ length: 20 }, () =>
      JSON.stringify(kind.sample.telemetry(first.next())) !== JSON.stringify(kind.sample.telemetry(c.next())),
    );
    expect(differ.some(Boolean)).toBe(true);
  });
});
