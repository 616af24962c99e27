/**
 * Case KPIs (domain.md §6) per grid, community or street over a period: registration rate,
 * dispatch accuracy, on-time disposal, closure and on-time closure, rework, first-time fix,
 * extension, overdue open cases and mean times. The formulas are the domain's (domain/cases/kpis.ts,
 * README there); this route picks the caller's cases and the period.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { computeKpis, type CaseKpis } from '../../../domain/cases/kpis.js';
import type { GridCase } from '../../../domain/cases/types.js';
import type { ApiRole } from '../../../ports.js';
import { authOf, type RouteOptions } from '../context.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { seesBuilding, seesEntity, type Visibility } from '../scope.js';
import { IsoTime, Nullable, TimeParam, apiErrors, iso, parseTimeParam } from '../schemas.js';

/** KPIs are the safety staff's (captains see their cases, not league tables). */
export const KPI_READERS: readonly ApiRole[] = ['admin', 'staff'];

const DAY = 86_400_000;
/** Longest period one request may ask for. */
export const MAX_KPI_SPAN_MS = 400 * DAY;

const COUNTS = ['opened', 'registered', 'dispatches', 'returns', 'disposals', 'onTimeDisposals', 'due', 'dueClosed', 'dueClosedOnTime', 'closed', 'reworked', 'firstTimeFixed', 'extended', 'overdueOpen'] as const;
const RATES = ['registrationRate', 'dispatchAccuracy', 'onTimeDisposalRate', 'closureRate', 'onTimeClosureRate', 'reworkRate', 'firstTimeFixRate', 'extensionRate'] as const;
const MEANS = ['meanMinutesToDispatch', 'meanMinutesToAccept', 'meanMinutesToClose'] as const;

export const KpisView = Type.Object(
  {
    ...Object.fromEntries(COUNTS.map((k) => [k, Type.Integer()])),
    ...Object.fromEntries(RATES.map((k) => [k, Nullable(Type.Number({ minimum: 0, maximum: 1, description: 'null when the denominator is 0' }))])),
    ...Object.fromEntries(MEANS.map((k) => [k, Nullable(Type.Number({ description: 'minutes of wall-clock time' }))])),
  },
  { title: 'CaseKpis' },
);

const LevelSchema = Type.Union([Type.Literal('grid'), Type.Literal('community'), Type.Literal('street')]);

const KpiResultView = Type.Object(
  {
    from: IsoTime,
    to: IsoTime,
    level: LevelSchema,
    total: KpisView,
    groups: Type.Array(Type.Object({ id: Type.String(), kpis: KpisView })),
  },
  { title: 'KpiResult' },
);

export function kpisView(k: CaseKpis): Static<typeof KpisView> {
  return { ...k } as unknown as Static<typeof KpisView>;
}

/** The cases of [from, to) the caller may see. */
export function visibleCases(deps: HttpDeps, visibility: Visibility, from: number, to: number): GridCase[] {
  return deps.cases.casesFor(from, to).filter((c) => seesBuilding(visibility, c.buildingId));
}

export const kpiRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  app.get(
    '/kpis',
    {
      config: { roles: KPI_READERS },
      schema: {
        tags: ['cases'],
        summary: 'Case KPIs per grid, community or street over [from, to) (default: the last 7 days)',
        querystring: Type.Object({
          level: Type.Optional(LevelSchema),
          id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Only this grid/community/street (of the chosen level)' })),
          from: Type.Optional(TimeParam),
          to: Type.Optional(TimeParam),
        }),
        response: { 200: KpiResultView, ...apiErrors },
      },
    },
    async (request) => {
      const { visibility } = authOf(request);
      const q = request.query;
      const level = q.level ?? 'community';
      const to = parseTimeParam('to', q.to) ?? deps.clock.now();
      const from = parseTimeParam('from', q.from) ?? to - 7 * DAY;
      if (!(from < to) || to - from > MAX_KPI_SPAN_MS) {
        throw new HttpError('GW_VALIDATION', `from must be before to, at most ${MAX_KPI_SPAN_MS / DAY} days apart`, [{ path: '/from', message: 'bad period' }]);
      }
      if (q.id !== undefined && !seesEntity(visibility, q.id)) throw new HttpError('GW_NOT_FOUND', `No ${level} '${q.id}'`);
      let cases = visibleCases(deps, visibility, from, to);
      if (q.id !== undefined) {
        cases = cases.filter((c) => (level === 'grid' ? c.gridId : level === 'community' ? c.communityId : c.streetId) === q.id);
      }
      const result = computeKpis(cases, { from, to }, level);
      return {
        from: iso(result.from),
        to: iso(result.to),
        level,
        total: kpisView(result.total),
        groups: result.groups.map((g) => ({ id: g.id, kpis: kpisView(g.kpis) })),
      };
    },
  );
};
