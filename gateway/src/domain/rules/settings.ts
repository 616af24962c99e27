/**
 * Rule settings: kind defaults, then building overrides (every device of a kind that has the
 * rule), then device overrides (most specific wins, parameter by parameter).
 *
 * `validateOverrides()` is the gate for the site file and the API: it lists every problem at once
 * (unknown rule ids, unknown fields and params, values outside a param's schema, cross-param
 * conflicts), naming the rule id and the param. `resolveEffectiveRules()` is the hot path and
 * never throws: should an invalid value get past validation anyway, it is ignored and the less
 * specific value stays.
 */
import { Value } from '@sinclair/typebox/value';
import type { KindDefinition } from '../kind.js';
import { KINDS } from '../kinds/index.js';
import type { AnyRule, RuleParams } from './definition.js';
import type { EffectiveRules, RuleOverrides, RuleParamValue, RuleSetting } from './types.js';

type Override = RuleOverrides[string];

function validParams(rule: AnyRule, override: Override | undefined): Record<string, RuleParamValue> {
  const out: Record<string, RuleParamValue> = {};
  const given = override?.params;
  if (typeof given !== 'object' || given === null) return out;
  for (const [name, value] of Object.entries(given)) {
    const schema = rule.paramSchema.properties[name];
    if (schema && Value.Check(schema, value)) out[name] = value;
  }
  return out;
}

function said(override: Override | undefined): boolean {
  if (typeof override !== 'object' || override === null) return false;
  return typeof override.enabled === 'boolean' || Object.keys(override.params ?? {}).length > 0;
}

/**
 * The rules of one device (or, without a device id, of the kind in general) after overrides.
 * Rules keep the kind's order.
 */
export function resolveEffectiveRules(
  kind: KindDefinition,
  buildingOverrides?: RuleOverrides,
  deviceOverrides?: RuleOverrides,
  deviceId = '',
): EffectiveRules {
  const rules: RuleSetting[] = (kind.rules ?? []).map((rule) => {
    const b = buildingOverrides?.[rule.id];
    const d = deviceOverrides?.[rule.id];
    const defaults = rule.defaults as RuleParams;
    const fromBuilding = validParams(rule, b);
    const fromDevice = validParams(rule, d);
    // A combination that breaks a cross-param check falls back to the more specific level alone, then to the defaults.
    const candidates = [
      { ...defaults, ...fromBuilding, ...fromDevice },
      { ...defaults, ...fromDevice },
      { ...defaults },
    ];
    const params = candidates.find((c) => rule.check(c).length === 0) ?? defaults;
    const enabled =
      typeof d?.enabled === 'boolean' ? d.enabled : typeof b?.enabled === 'boolean' ? b.enabled : rule.enabledByDefault;
    const source: RuleSetting['source'] = said(d) ? 'device' : said(b) ? 'building' : 'kind';
    return Object.freeze({ id: rule.id, title: rule.title, enabled, params: Object.freeze(params), source });
  });
  return Object.freeze({ deviceId, kind: kind.id, rules: Object.freeze(rules) });
}

const ENTRY_FIELDS = new Set(['enabled', 'params']);

/**
 * Every problem with a set of overrides. With a kind, rule ids must be that kind's; without one
 * (building level), a rule id must belong to some registered kind and each param must be valid
 * for every kind that has the rule.
 */
export function validateOverrides(
  kind: KindDefinition | undefined,
  overrides: unknown,
  kinds: readonly KindDefinition[] = KINDS,
): string[] {
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    return ['overrides must be an object mapping rule ids to { enabled?, params? }'];
  }
  const catalog = new Map<string, AnyRule[]>();
  for (const k of kind ? [kind] : kinds) {
    for (const rule of k.rules ?? []) catalog.set(rule.id, [...(catalog.get(rule.id) ?? []), rule]);
  }
  const problems: string[] = [];
  const add = (p: string) => {
    if (!problems.includes(p)) problems.push(p);
  };
  for (const [id, entry] of Object.entries(overrides as Record<string, unknown>)) {
    const rules = catalog.get(id);
    if (!rules) {
      add(
        kind
          ? `unknown rule '${id}' for kind '${kind.id}' (it has: ${[...catalog.keys()].join(', ')})`
          : `unknown rule '${id}' (no registered kind has it)`,
      );
      continue;
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      add(`rule '${id}': must be an object { enabled?, params? }`);
      continue;
    }
    const e = entry as Record<string, unknown>;
    for (const field of Object.keys(e)) {
      if (!ENTRY_FIELDS.has(field)) add(`rule '${id}': unknown field '${field}' (allowed: enabled, params)`);
    }
    if ('enabled' in e && typeof e.enabled !== 'boolean') add(`rule '${id}': 'enabled' must be true or false`);
    if (!('params' in e) || e.params === undefined) continue;
    if (typeof e.params !== 'object' || e.params === null || Array.isArray(e.params)) {
      add(`rule '${id}': 'params' must be an object of param name → value`);
      continue;
    }
    const given = e.params as Record<string, unknown>;
    for (const rule of rules) {
      let paramsOk = true;
      for (const [name, value] of Object.entries(given)) {
        const schema = rule.paramSchema.properties[name];
        if (!schema) {
          add(`rule '${id}': unknown param '${name}' (known: ${Object.keys(rule.paramSchema.properties).join(', ')})`);
          paramsOk = false;
          continue;
        }
        if (!Value.Check(schema, value)) {
          const first = [...Value.Errors(schema, value)][0];
          add(`rule '${id}': param '${name}': ${first?.message ?? 'invalid value'} (got ${JSON.stringify(value)})`);
          paramsOk = false;
        }
      }
      if (paramsOk) {
        for (const p of rule.check({ ...(rule.defaults as RuleParams), ...(given as RuleParams) })) add(`rule '${id}': ${p}`);
      }
    }
  }
  return problems;
}

/** A rule as plain data, for the API and the docs (the param schema is JSON Schema). */
export interface RuleDescription {
  readonly id: string;
  readonly title: string;
  readonly titleZh: string;
  readonly description: string;
  readonly signalClass: string;
  readonly latched: boolean;
  readonly handles: readonly string[];
  readonly reads: readonly string[];
  readonly emits: readonly string[];
  readonly enabledByDefault: boolean;
  readonly defaults: RuleParams;
  readonly paramSchema: unknown;
}

export function describeRules(kind: KindDefinition): RuleDescription[] {
  return (kind.rules ?? []).map((r) => ({
    id: r.id,
    title: r.title,
    titleZh: r.titleZh,
    description: r.description,
    signalClass: r.signalClass,
    latched: r.latched,
    handles: r.handles,
    reads: r.reads,
    emits: [r.id, ...r.alsoEmits],
    enabledByDefault: r.enabledByDefault,
    defaults: r.defaults as RuleParams,
    paramSchema: r.paramSchema,
  }));
}
