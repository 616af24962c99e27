/**
 * Every registered kind's rules, checked the same way (runs over KINDS: a new kind is checked the
 * moment its registry line exists).
 */
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { KINDS } from '../../../gateway/src/domain/kinds/index.js';
import { OFFLINE_RULE_ID } from '../../../gateway/src/domain/rules/offline.js';
import { validateOverrides } from '../../../gateway/src/domain/rules/settings.js';

describe.each(KINDS.map((k) => [k.id, k] as const))('rules of kind %s', (_id, kind) => {
  const rules = kind.rules ?? [];

  it('declares device.offline with the kind heartbeat contract as its default', () => {
    const offline = rules.find((r) => r.id === OFFLINE_RULE_ID);
    expect(offline).toBeDefined();
    expect(offline!.defaults).toMatchObject({ offlineAfterS: kind.heartbeat.offlineAfterS });
    expect(offline!.defaults.startupGraceS).toBeGreaterThanOrEqual(Math.max(kind.heartbeat.offlineAfterS, 120));
  });

  it('has a rule for each alarm, supervisory and trouble event', () => {
    const handled = new Set(rules.flatMap((r) => r.handles));
    const missing = kind.events.filter((e) => e.signalClass !== 'info' && !handled.has(e.type)).map((e) => e.type);
    expect(missing).toEqual([]);
  });

  it('handles only events and reads only measurements the kind declares', () => {
    for (const r of rules) {
      for (const t of r.handles) expect(kind.eventsByType.has(t), `${r.id} handles ${t}`).toBe(true);
      for (const m of r.reads) expect(kind.measurementsByName.has(m), `${r.id} reads ${m}`).toBe(true);
    }
  });

  it('gives each rule a unique id, bilingual titles and a description', () => {
    const ids = rules.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const emitted = rules.flatMap((r) => [r.id, ...r.alsoEmits]);
    expect(new Set(emitted).size).toBe(emitted.length);
    for (const r of rules) {
      expect(r.title.trim(), r.id).not.toBe('');
      expect(r.titleZh.trim(), r.id).not.toBe('');
      expect(r.description.trim(), r.id).not.toBe('');
    }
  });

  it('has defaults that validate against each param schema and pass the cross-param checks', () => {
    for (const r of rules) {
      expect([...Value.Errors(r.paramSchema, r.defaults)].map((e) => `${r.id} ${e.path}: ${e.message}`)).toEqual([]);
      expect(r.check(r.defaults), r.id).toEqual([]);
      expect(r.paramSchema.additionalProperties, r.id).toBe(false);
    }
    // The defaults, written back as overrides, are valid overrides.
    const asOverrides = Object.fromEntries(rules.map((r) => [r.id, { enabled: true, params: r.defaults }]));
    expect(validateOverrides(kind, asOverrides)).toEqual([]);
  });

  it('rules that raise alarms from life-safety events are latched where the domain says so', () => {
    for (const r of rules) {
      if (['smoke.alarm', 'heat.fixed', 'heat.rate_of_rise', 'co.exposure', 'manual_call_point', 'door.forced_open'].includes(r.id)) {
        expect(r.latched, r.id).toBe(true);
        expect(r.signalClass, r.id).toBe('alarm');
      }
    }
  });
});
