/**
 * Rule settings: kind defaults < building overrides < device overrides, and validation that
 * lists every problem with its rule id and param.
 */
import { describe, expect, it } from 'vitest';
import { kindById } from '../../../gateway/src/domain/kinds/index.js';
import type { KindDefinition } from '../../../gateway/src/domain/kind.js';
import { describeRules, resolveEffectiveRules, validateOverrides } from '../../../gateway/src/domain/rules/settings.js';

function kind(id: string): KindDefinition {
  const k = kindById(id);
  if (!k) throw new Error(id);
  return k;
}

describe('resolveEffectiveRules', () => {
  it('gives the kind defaults, in the kind order, sourced from the kind', () => {
    const rules = resolveEffectiveRules(kind('door'), undefined, undefined, 'DC1');
    expect(rules.deviceId).toBe('DC1');
    expect(rules.kind).toBe('door');
    const held = rules.rules.find((r) => r.id === 'door.held_open')!;
    expect(held).toMatchObject({ enabled: true, source: 'kind', params: { heldOpenS: 30, prewarnPct: 75 }, title: 'Door held open' });
    expect(rules.rules.map((r) => r.id)).toEqual(kind('door').rules!.map((r) => r.id));
  });

  it('building overrides apply, device overrides win param by param', () => {
    const rules = resolveEffectiveRules(
      kind('door'),
      { 'door.held_open': { params: { heldOpenS: 60, prewarnPct: 50 } }, 'door.forced_open': { enabled: false } },
      { 'door.held_open': { params: { heldOpenS: 120 } } },
      'DC1',
    );
    expect(rules.rules.find((r) => r.id === 'door.held_open')).toMatchObject({ source: 'device', params: { heldOpenS: 120, prewarnPct: 50 } });
    expect(rules.rules.find((r) => r.id === 'door.forced_open')).toMatchObject({ source: 'building', enabled: false });
    const deviceOn = resolveEffectiveRules(kind('door'), { 'door.forced_open': { enabled: false } }, { 'door.forced_open': { enabled: true } });
    expect(deviceOn.rules.find((r) => r.id === 'door.forced_open')).toMatchObject({ source: 'device', enabled: true });
  });

  it('never throws on bad overrides: invalid values and unknown names are ignored', () => {
    const rules = resolveEffectiveRules(kind('smoke'), {
      'smoke.alarm': { params: { 'verification.windowS': -5, nonsense: 1, 'obscuration.alarmDbPerM': 0.2 } },
      'no.such.rule': { enabled: false },
    });
    expect(rules.rules.find((r) => r.id === 'smoke.alarm')!.params).toMatchObject({ 'verification.windowS': 60, 'obscuration.alarmDbPerM': 0.2 });
    expect(rules.rules.find((r) => r.id === 'smoke.alarm')!.params).not.toHaveProperty('nonsense');
  });

  it('a combination that breaks a cross-param check falls back to the more specific level', () => {
    const rules = resolveEffectiveRules(
      kind('smoke'),
      { 'smoke.alarm': { params: { 'obscuration.deadbandDbPerM': 0.12 } } },
      { 'smoke.alarm': { params: { 'obscuration.alarmDbPerM': 0.1 } } },
    );
    expect(rules.rules.find((r) => r.id === 'smoke.alarm')!.params).toMatchObject({ 'obscuration.alarmDbPerM': 0.1, 'obscuration.deadbandDbPerM': 0.05 });
  });
});

describe('validateOverrides', () => {
  it('accepts good overrides', () => {
    expect(validateOverrides(kind('door'), { 'door.held_open': { enabled: true, params: { heldOpenS: 45 } } })).toEqual([]);
    expect(validateOverrides(undefined, { 'device.offline': { params: { offlineAfterS: 600 } }, 'battery.low': { params: { lowPct: 25 } } })).toEqual([]);
    expect(validateOverrides(kind('camera'), {})).toEqual([]);
  });

  it('lists every problem at once, naming rule and param', () => {
    const problems = validateOverrides(kind('door'), {
      'door.held_open': { enabled: 'yes', params: { heldOpenS: 0, prewarnPct: 12.5, colour: 'red' }, extra: 1 },
      'smoke.alarm': { enabled: false },
      'door.forced_open': 'off',
      'door.repeated_denials': { params: [] },
    });
    expect(problems).toEqual([
      "rule 'door.held_open': unknown field 'extra' (allowed: enabled, params)",
      "rule 'door.held_open': 'enabled' must be true or false",
      "rule 'door.held_open': param 'heldOpenS': Expected number to be greater or equal to 1 (got 0)",
      "rule 'door.held_open': param 'prewarnPct': Expected integer (got 12.5)",
      "rule 'door.held_open': unknown param 'colour' (known: heldOpenS, prewarnPct)",
      expect.stringMatching(/^unknown rule 'smoke\.alarm' for kind 'door' \(it has: door\.forced_open, door\.held_open, .*device\.offline\)$/),
      "rule 'door.forced_open': must be an object { enabled?, params? }",
      "rule 'door.repeated_denials': 'params' must be an object of param name → value",
    ]);
  });

  it('reports cross-param conflicts', () => {
    expect(validateOverrides(kind('smoke'), { 'smoke.alarm': { params: { 'obscuration.alarmDbPerM': 0.04 } } })).toEqual([
      "rule 'smoke.alarm': param 'obscuration.deadbandDbPerM' (0.05) must be below 'obscuration.alarmDbPerM' (0.04), or it never clears",
    ]);
    expect(validateOverrides(kind('smoke'), { 'heat.rate_of_rise': { params: { minSpanS: 120 } } })).toEqual([
      "rule 'heat.rate_of_rise': param 'minSpanS' (120) must not exceed 'windowS' (60)",
    ]);
  });

  it('at building level, a rule must exist in some kind and the value suit every kind that has it', () => {
    expect(validateOverrides(undefined, { 'no.such': {} })).toEqual(["unknown rule 'no.such' (no registered kind has it)"]);
    // battery.low is in smoke and door with the same schema: one problem, not two.
    expect(validateOverrides(undefined, { 'battery.low': { params: { lowPct: 101 } } })).toEqual([
      "rule 'battery.low': param 'lowPct': Expected number to be less or equal to 100 (got 101)",
    ]);
  });

  it('refuses what is not an object', () => {
    for (const bad of [null, 3, 'x', []]) {
      expect(validateOverrides(kind('door'), bad)).toEqual(['overrides must be an object mapping rule ids to { enabled?, params? }']);
    }
  });
});

describe('describeRules', () => {
  it('describes each rule as plain data with its JSON schema and emitted types', () => {
    const held = describeRules(kind('door')).find((r) => r.id === 'door.held_open')!;
    expect(held.emits).toEqual(['door.held_open', 'door.held_open.prewarning']);
    expect(JSON.parse(JSON.stringify(held.paramSchema))).toMatchObject({ type: 'object', properties: { heldOpenS: { type: 'number' } } });
  });
});
