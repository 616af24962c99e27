/**
 * Case reports (domain.md §6): daily dispatch (日调度), weekly review (周会商), monthly summary
 * (月总结) of the last complete local period before `at` (default now), over the caller's cases.
 * JSON by default; Markdown when the request accepts `text/markdown` (and not JSON first).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { REPORT_PERIODS, buildReport, reportMarkdown, reportWindow } from '../../../domain/cases/reports.js';
import { authOf, type RouteOptions } from '../context.js';
import { IsoTime, TimeParam, apiErrors, iso, parseTimeParam } from '../schemas.js';
import { KPI_READERS, KpisView, kpisView, visibleCases } from './kpis.js';

const ReportView = Type.Object(
  {
    period: Type.Union(REPORT_PERIODS.map((p) => Type.Literal(p))),
    title: Type.String(),
    titleZh: Type.String(),
    from: IsoTime,
    to: IsoTime,
    label: Type.String({ description: "Local dates covered, e.g. '2026-11-23 – 2026-11-29'" }),
    level: Type.String(),
    total: KpisView,
    groups: Type.Array(Type.Object({ id: Type.String(), kpis: KpisView })),
    notable: Type.Array(
      Type.Object({
        id: Type.String(),
        code: Type.String(),
        title: Type.String(),
        buildingId: Type.String(),
        state: Type.String(),
        urgency: Type.String(),
        category: Type.String(),
        why: Type.String(),
      }),
    ),
  },
  { title: 'CaseReport' },
);

/** Markdown when asked for it before JSON (a plain `Accept: text/markdown`). */
function wantsMarkdown(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const md = accept.indexOf('text/markdown');
  if (md < 0) return false;
  const json = accept.indexOf('application/json');
  return json < 0 || md < json;
}

export const reportRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  app.get(
    '/reports/:period',
    {
      config: { roles: KPI_READERS },
      schema: {
        tags: ['cases'],
        summary: 'Daily (日调度), weekly (周会商) or monthly (月总结) case report; Markdown with Accept: text/markdown',
        params: Type.Object({ period: Type.Union(REPORT_PERIODS.map((p) => Type.Literal(p))) }),
        querystring: Type.Object({ at: Type.Optional(TimeParam) }),
        response: { 200: ReportView, ...apiErrors },
      },
    },
    async (request, reply) => {
      const { visibility } = authOf(request);
      const at = parseTimeParam('at', request.query.at) ?? deps.clock.now();
      const { from, to } = reportWindow(request.params.period, at, deps.cases.calendar);
      const report = buildReport(request.params.period, at, visibleCases(deps, visibility, from, to), deps.cases.calendar);
      if (wantsMarkdown(request.headers.accept)) {
        return reply.type('text/markdown; charset=utf-8').serializer((p: unknown) => String(p)).send(reportMarkdown(report) as never);
      }
      return {
        ...report,
        from: iso(report.from),
        to: iso(report.to),
        total: kpisView(report.total),
        groups: report.groups.map((g) => ({ id: g.id, kpis: kpisView(g.kpis) })),
        notable: [...report.notable],
      };
    },
  );
};
