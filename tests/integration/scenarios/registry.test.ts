/**
 * The scenario registry and every scenario's script, checked without a gateway: each file in
 * simulators/src/scenarios/ is registered, every message a scenario sends passes its kind's
 * schema, and every alert it expects is one its kind's rules can raise.
 */
import '../../support/typebox-formats.js';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, it } from 'vitest';
import { kindById } from '../../../gateway/src/domain/kinds/index.js';
import { SCENARIOS, classesOf, offsetMs, scenarioById } from '../../../simulators/src/scenarios/index.js';

const folder = fileURLToPath(new URL('../../../simulators/src/scenarios/', import.meta.url));
const NOT_SCENARIOS = new Set(['index.ts', 'types.ts']);

describe('scenario registry', () => {
  it('lists every scenario file once, under its file name', () => {
    const files = readdirSync(folder).filter((f) => f.endsWith('.ts') && !NOT_SCENARIOS.has(f));
    expect(SCENARIOS.map((s) => `${s.id}.ts`).sort()).toEqual(files.sort());
    expect(new Set(SCENARIOS.map((s) => s.id)).size).toBe(SCENARIOS.length);
    expect(scenarioById('fire')?.title).toMatch(/Fire/);
    expect(scenarioById('toaster')).toBeUndefined();
  });

  it('covers the scenarios the simulator promises', () => {
    expect(SCENARIOS.map((s) => s.id)).toEqual(
      expect.arrayContaining(['fire', 'forced-door', 'held-door', 'denied-card', 'stranger', 'blocklist', 'camera-offline', 'camera-covered']),
    );
  });

  it('reads offsets as seconds or with a unit, and refuses anything else', () => {
    expect(offsetMs(0)).toBe(0);
    expect(offsetMs(2)).toBe(2000);
    expect(offsetMs('500ms')).toBe(500);
    expect(offsetMs('2s')).toBe(2000);
    expect(offsetMs('1m')).toBe(60_000);
    expect(offsetMs('1m30s')).toBe(90_000);
    expect(() => offsetMs('soon' as '1s')).toThrow(/not like/);
    expect(() => offsetMs(-1)).toThrow();
  });
});

describe.each(SCENARIOS.map((s) => [s.id, s] as const))('scenario %s', (_id, scenario) => {
  it('uses registered kinds, valid offsets and only the devices it declares', () => {
    for (const [role, device] of Object.entries(scenario.devices)) expect(kindById(device.kind), role).toBeDefined();
    for (const step of scenario.steps) {
      expect(() => offsetMs(step.at)).not.toThrow();
      if (step.device !== undefined) expect(Object.keys(scenario.devices)).toContain(step.device);
    }
    expect(scenario.description.length).toBeGreaterThan(20);
  });

  it('sends only messages its kinds accept', () => {
    for (const step of scenario.steps) {
      if (step.device === undefined || 'drop' in step) continue;
      const kind = kindById(scenario.devices[step.device]!.kind)!;
      const stamp = { ts: '2026-11-26T03:00:00.000Z', seq: 1 };
      const [schema, body] = 'telemetry' in step ? [kind.telemetrySchema, { ...step.telemetry, ...stamp }] : [kind.eventSchema, { ...step.event, ...stamp }];
      const check = TypeCompiler.Compile(schema);
      expect(check.Check(body), `${scenario.id} +${String(step.at)}: ${[...check.Errors(body)].map((e) => `${e.path} ${e.message}`).join('; ')}`).toBe(true);
    }
  });

  it('expects only alerts its devices\' rules can raise', () => {
    expect(scenario.expect.alerts.length).toBeGreaterThan(0);
    for (const e of scenario.expect.alerts) {
      const device = scenario.devices[e.deviceRole];
      expect(device, e.deviceRole).toBeDefined();
      const rules = kindById(device!.kind)!.rules ?? [];
      const types = rules.flatMap((r) => [r.id, ...r.alsoEmits]);
      expect(types, `${scenario.id}: ${e.type}`).toContain(e.type);
      expect(classesOf(e).length).toBeGreaterThan(0);
    }
  });
});
