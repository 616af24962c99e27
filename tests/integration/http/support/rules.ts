/**
 * A RuleService for the HTTP tests over the real SqliteRuleOverridesStore and a small catalogue
 * of default rules per kind. It layers kind → building → device as the rule engine does, and
 * refuses unknown rules, unknown parameters and values of the wrong type, listing every problem.
 */
import type { SqliteRuleOverridesStore } from '../../../../gateway/src/adapters/sqlite/rule-overrides-store.js';
import type { EffectiveRules, RuleOverrides, RuleParamValue, RuleSetting } from '../../../../gateway/src/domain/rules/types.js';
import { RuleConfigError, type Clock, type RuleService, type SiteStore } from '../../../../gateway/src/ports.js';

interface DefaultRule {
  readonly id: string;
  readonly title: string;
  readonly enabled: boolean;
  readonly params: Readonly<Record<string, RuleParamValue>>;
}

/** Default rules per kind, as a kind file would declare them. */
export const TEST_RULES: Readonly<Record<string, readonly DefaultRule[]>> = {
  smoke: [
    { id: 'smoke.alarm', title: 'Smoke alarm', enabled: true, params: { verifyS: 30 } },
    { id: 'battery.low', title: 'Low battery', enabled: true, params: { belowPercent: 20 } },
  ],
  door: [{ id: 'door.held_open', title: 'Door held open', enabled: true, params: { afterS: 30, occupiedHours: ['07:00', '22:00'] } }],
  camera: [{ id: 'camera.offline', title: 'Camera offline', enabled: true, params: { afterS: 60 } }],
};

export class StoreRuleService implements RuleService {
  constructor(
    readonly store: SqliteRuleOverridesStore,
    private readonly site: SiteStore,
    private readonly clock: Clock,
  ) {}

  effectiveRules(deviceId: string): EffectiveRules | undefined {
    const device = this.site.device(deviceId);
    const defaults = device === undefined ? undefined : TEST_RULES[device.kind];
    if (device === undefined || defaults === undefined) return undefined;
    const building = this.store.get('building', device.buildingId);
    const own = this.store.get('device', device.id);
    const rules: RuleSetting[] = defaults.map((rule) => {
      let setting: RuleSetting = { id: rule.id, title: rule.title, enabled: rule.enabled, params: rule.params, source: 'kind' };
      for (const [level, overrides] of [['building', building], ['device', own]] as const) {
        const o = overrides[rule.id];
        if (o === undefined) continue;
        setting = {
          ...setting,
          enabled: o.enabled ?? setting.enabled,
          params: { ...setting.params, ...(o.params ?? {}) },
          source: level,
        };
      }
      return setting;
    });
    return { deviceId: device.id, kind: device.kind, rules };
  }

  setOverrides(scope: { readonly level: 'building' | 'device'; readonly id: string }, overrides: RuleOverrides, actor: string): void {
    const kinds = this.kindsAt(scope);
    const problems: string[] = [];
    for (const [ruleId, o] of Object.entries(overrides)) {
      const rule = kinds.flatMap((k) => TEST_RULES[k] ?? []).find((r) => r.id === ruleId);
      if (rule === undefined) {
        problems.push(`${ruleId}: no such rule for ${scope.level} '${scope.id}'`);
        continue;
      }
      for (const [name, value] of Object.entries(o.params ?? {})) {
        const known = rule.params[name];
        if (known === undefined) problems.push(`${ruleId}.params.${name}: unknown parameter`);
        else if (typeof known !== typeof value || Array.isArray(known) !== Array.isArray(value)) {
          problems.push(`${ruleId}.params.${name}: expected ${Array.isArray(known) ? 'a list' : typeof known}`);
        } else if (typeof value === 'number' && value < 0) problems.push(`${ruleId}.params.${name}: must not be negative`);
      }
    }
    if (problems.length > 0) throw new RuleConfigError(problems);
    this.store.set(scope.level, scope.id, overrides, actor, this.clock.now());
  }

  overrides(scope: { readonly level: 'building' | 'device'; readonly id: string }): RuleOverrides {
    return this.store.get(scope.level, scope.id);
  }

  private kindsAt(scope: { readonly level: 'building' | 'device'; readonly id: string }): string[] {
    if (scope.level === 'device') {
      const device = this.site.device(scope.id);
      return device === undefined ? [] : [device.kind];
    }
    // A building's overrides may name any kind's rule: devices of that kind will use them.
    return Object.keys(TEST_RULES);
  }
}
