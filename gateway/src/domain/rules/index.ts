/**
 * The rule engine's public surface, for the composition root, the API and the site file loader.
 * Kind files import their factories from './factories.js' instead (see README.md).
 */
export { createRuleEngine, type RuleEngineExtras, type RuleEngineOptions, type RuleFault } from './engine.js';
export { describeRules, resolveEffectiveRules, validateOverrides, type RuleDescription } from './settings.js';
export {
  CHINA_UTC_OFFSET_MINUTES,
  DEFAULT_OCCUPANCY,
  isOccupied,
  nextOccupancyChange,
  validateOccupancy,
  type OccupancySchedule,
  type OccupiedInterval,
} from './occupancy.js';
export { defineRule, type AnyRule, type RuleDefinition } from './definition.js';
export { OFFLINE_RULE_ID } from './offline.js';
export { PREWARNING_TYPE } from './door-rules.js';
export type { EffectiveRules, RuleEngine, RuleOverrides, RuleParamValue, RuleSetting } from './types.js';
