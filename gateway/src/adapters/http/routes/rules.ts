/**
 * Rule settings: what applies to a device (kind defaults, then building, then device overrides)
 * and replacing the overrides at the building or device level. Validation is the rule engine's
 * (RuleService.setOverrides throws RuleConfigError with every problem); this module only checks
 * the shape and answers GW_RULES_INVALID with the full list, so a console can mark every field
 * at once.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { EffectiveRules, RuleOverrides } from '../../../domain/rules/types.js';
import { RuleConfigError, type ApiRole } from '../../../ports.js';
import { authOf, type RouteOptions } from '../context.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { seesBuilding } from '../scope.js';
import { IdParams, apiErrors } from '../schemas.js';
import { visibleDevice } from './devices.js';

/** Integrators see what applies to the devices they connect; captains see their buildings'. */
export const RULE_READERS: readonly ApiRole[] = ['admin', 'staff', 'captain', 'integrator'];
/**
 * Turning a rule off or widening a threshold silences a source like 屏蔽 does, so it takes the
 * same authority: safety staff and admins. Integrators tune a sensor model in its kind file.
 */
export const RULE_EDITORS: readonly ApiRole[] = ['admin', 'staff'];

const RULE_ID_PATTERN = '^[a-z0-9][a-z0-9_.-]{0,63}$';

const RuleParams = Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Type.Unknown(), {
  maxProperties: 64,
  description: 'Rule parameters (numbers, strings, booleans, lists and objects of them)',
});

const RuleOverridesSchema = Type.Record(
  Type.String({ pattern: RULE_ID_PATTERN }),
  Type.Object(
    { enabled: Type.Optional(Type.Boolean()), params: Type.Optional(RuleParams) },
    { additionalProperties: false },
  ),
  {
    // TypeBox leaves keys outside the pattern allowed; a misspelt rule id must be refused.
    additionalProperties: false,
    maxProperties: 128,
    title: 'RuleOverrides',
    description: 'Partial settings per rule id; replaces the whole level',
  },
);

/** Answers show whatever the levels hold (the site file may have set them), never filtered. */
const RuleOverridesView = Type.Record(
  Type.String(),
  Type.Object({ enabled: Type.Optional(Type.Boolean()), params: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }),
  { title: 'RuleOverridesView' },
);

const RuleSettingView = Type.Object({
  id: Type.String(),
  title: Type.String(),
  enabled: Type.Boolean(),
  params: Type.Record(Type.String(), Type.Unknown()),
  source: Type.Union([Type.Literal('kind'), Type.Literal('building'), Type.Literal('device')], {
    description: 'The most specific level that set any of this rule\'s values',
  }),
});

const DeviceRulesView = Type.Object(
  {
    deviceId: Type.String(),
    kind: Type.String(),
    buildingId: Type.String(),
    rules: Type.Array(RuleSettingView),
    overrides: Type.Object({ building: RuleOverridesView, device: RuleOverridesView }),
  },
  { title: 'DeviceRules' },
);

const BuildingRulesView = Type.Object({ buildingId: Type.String(), overrides: RuleOverridesView }, { title: 'BuildingRules' });

type DeviceRulesT = Static<typeof DeviceRulesView>;

/**
 * JSON has null; rule parameters do not (RuleParamValue). Found here so the answer names the
 * rule and parameter instead of the engine failing on a null later.
 */
function nullProblems(overrides: Static<typeof RuleOverridesSchema>): string[] {
  const problems: string[] = [];
  const walk = (value: unknown, path: string, depth: number): void => {
    if (value === null) problems.push(`${path}: null is not a parameter value`);
    else if (depth > 8) problems.push(`${path}: nested too deeply`);
    else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`, depth + 1));
    else if (typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`, depth + 1);
  };
  for (const [ruleId, setting] of Object.entries(overrides)) {
    for (const [name, value] of Object.entries(setting.params ?? {})) walk(value, `${ruleId}.params.${name}`, 0);
  }
  return problems;
}

function deviceRules(deps: HttpDeps, deviceId: string, buildingId: string): DeviceRulesT {
  const effective: EffectiveRules | undefined = deps.rules.effectiveRules(deviceId);
  if (effective === undefined) throw new HttpError('GW_NOT_FOUND', `No rules for device '${deviceId}'`);
  return {
    deviceId: effective.deviceId,
    kind: effective.kind,
    buildingId,
    rules: effective.rules.map((r) => ({ id: r.id, title: r.title, enabled: r.enabled, params: { ...r.params }, source: r.source })),
    overrides: {
      building: deps.rules.overrides({ level: 'building', id: buildingId }),
      device: deps.rules.overrides({ level: 'device', id: deviceId }),
    },
  };
}

function setOverrides(deps: HttpDeps, level: 'building' | 'device', id: string, body: Static<typeof RuleOverridesSchema>, actor: string): void {
  const problems = nullProblems(body);
  if (problems.length > 0) throw new HttpError('GW_RULES_INVALID', `rule overrides are invalid: ${problems.join('; ')}`, problems);
  try {
    // Shape checked above and by the schema; the null walk makes it a RuleOverrides.
    deps.rules.setOverrides({ level, id }, body as RuleOverrides, actor);
  } catch (err) {
    if (err instanceof RuleConfigError) throw new HttpError('GW_RULES_INVALID', err.message, [...err.problems]);
    throw err;
  }
}

export const ruleRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  app.get(
    '/devices/:id/rules',
    {
      config: { roles: RULE_READERS },
      schema: {
        tags: ['rules'],
        summary: "The rules that apply to a device and where each value comes from, with the building's and device's overrides",
        params: IdParams,
        response: { 200: DeviceRulesView, ...apiErrors },
      },
    },
    async (request) => {
      const device = visibleDevice(deps, authOf(request).visibility, request.params.id);
      return deviceRules(deps, device.id, device.buildingId);
    },
  );

  app.put(
    '/devices/:id/rules',
    {
      config: { roles: RULE_EDITORS },
      schema: {
        tags: ['rules'],
        summary: "Replace a device's rule overrides; answers the rules that now apply",
        params: IdParams,
        body: RuleOverridesSchema,
        response: { 200: DeviceRulesView, ...apiErrors },
      },
    },
    async (request) => {
      const { visibility, token } = authOf(request);
      const device = visibleDevice(deps, visibility, request.params.id);
      setOverrides(deps, 'device', device.id, request.body, token.id);
      request.log.info({ deviceId: device.id, actor: token.id, rules: Object.keys(request.body) }, 'device rule overrides replaced');
      return deviceRules(deps, device.id, device.buildingId);
    },
  );

  const visibleBuilding = (request: Parameters<typeof authOf>[0], id: string): string => {
    const building = deps.site.building(id);
    if (building === undefined || !seesBuilding(authOf(request).visibility, building.id)) {
      throw new HttpError('GW_NOT_FOUND', `No building '${id}'`);
    }
    return building.id;
  };

  app.get(
    '/buildings/:id/rules',
    {
      config: { roles: RULE_READERS },
      schema: {
        tags: ['rules'],
        summary: "A building's rule overrides (apply to every device in it unless the device overrides them)",
        params: IdParams,
        response: { 200: BuildingRulesView, ...apiErrors },
      },
    },
    async (request) => {
      const buildingId = visibleBuilding(request, request.params.id);
      return { buildingId, overrides: deps.rules.overrides({ level: 'building', id: buildingId }) };
    },
  );

  app.put(
    '/buildings/:id/rules',
    {
      config: { roles: RULE_EDITORS },
      schema: {
        tags: ['rules'],
        summary: "Replace a building's rule overrides",
        params: IdParams,
        body: RuleOverridesSchema,
        response: { 200: BuildingRulesView, ...apiErrors },
      },
    },
    async (request) => {
      const { token } = authOf(request);
      const buildingId = visibleBuilding(request, request.params.id);
      setOverrides(deps, 'building', buildingId, request.body, token.id);
      request.log.info({ buildingId, actor: token.id, rules: Object.keys(request.body) }, 'building rule overrides replaced');
      return { buildingId, overrides: deps.rules.overrides({ level: 'building', id: buildingId }) };
    },
  );
};
