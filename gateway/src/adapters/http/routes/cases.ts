/**
 * Grid cases (网格案件): the list, one case with its linked alerts and history, a case reported by
 * staff, and the transitions of the case lifecycle. The state machine lives behind `deps.cases`
 * (CaseService); this module maps HTTP onto it: scope first (a case outside the caller's
 * buildings is a 404), then which person-level role the token acts as, then the action.
 *
 * Acting roles: API tokens are admin or staff. A staff token scoped to a grid acts as the grid
 * worker (网格员); to a community as community staff (and may stand in for its grid workers); to a
 * street, or unscoped, as the street dispatcher (and may stand in for anyone below). `asRole`
 * picks one of those explicitly; without it the first that the action allows is used.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { resolveActingRole, rolesForToken, type ScopeLevel } from '../../../domain/cases/lifecycle.js';
import { CASE_ACTIONS, CASE_STATES, CASE_STEPS, CaseActionError, type CaseActor, type CaseRole, type GridCase, type StepDeadline } from '../../../domain/cases/types.js';
import type { ApiRole, ApiToken, CaseQuery, SiteStore } from '../../../ports.js';
import { authOf, type RouteOptions } from '../context.js';
import type { HttpDeps } from '../deps.js';
import { ErrorBody, HttpError } from '../errors.js';
import { seesBuilding, type Visibility } from '../scope.js';
import { DEFAULT_PAGE_LIMIT, IdParams, IsoTime, Nullable, Page, PageQuery, TimeParam, apiErrors, decodeCursor, encodeCursor, invalidCursor, iso, isoOrNull, parseTimeParam } from '../schemas.js';
import { AlertSummaryView, alertSummary } from './alerts.js';

/** Building captains read the cases of their buildings; integrators connect sensors and see none. */
export const CASE_READERS: readonly ApiRole[] = ['admin', 'staff', 'captain'];
/** Acting on cases is the safety staff's work (grid workers and dispatchers hold staff tokens). */
export const CASE_ACTORS: readonly ApiRole[] = ['admin', 'staff'];

const ACTING_ROLES = ['grid_worker', 'community_staff', 'street_dispatcher'] as const;

const Deadline = Nullable(
  Type.Object({
    startedAt: IsoTime,
    dueAt: IsoTime,
    basis: Type.Union([Type.Literal('clock'), Type.Literal('working')], { description: 'wall clock, or working time of the business calendar' }),
    metAt: Nullable(IsoTime),
    overdueLevel: Type.Integer({ description: '0 on time; n = overdue and escalated n rungs' }),
    nextEscalationAt: Nullable(IsoTime),
  }),
);

const caseFields = {
  id: Type.String(),
  code: Type.String({ description: "Human-readable, e.g. 'GW-20261126-0001'" }),
  state: Type.Union(CASE_STATES.map((s) => Type.Literal(s))),
  category: Type.String(),
  urgency: Type.Union([Type.Literal('urgent'), Type.Literal('normal')]),
  buildingId: Type.String(),
  gridId: Nullable(Type.String()),
  communityId: Nullable(Type.String()),
  streetId: Nullable(Type.String()),
  title: Type.String(),
  description: Type.String(),
  source: Type.Union([Type.Literal('sensor'), Type.Literal('manual')]),
  alertIds: Type.Array(Type.String()),
  assignee: Nullable(Type.String({ description: 'Person id of the handler' })),
  openedAt: IsoTime,
  times: Type.Record(Type.String(), IsoTime, { description: 'Latest entry into each state' }),
  disposal: Nullable(Type.Object({ at: IsoTime, onTime: Type.Boolean() })),
  deadlines: Type.Object(Object.fromEntries(CASE_STEPS.map((s) => [s, Deadline])) as Record<(typeof CASE_STEPS)[number], typeof Deadline>),
  dueAt: Nullable(IsoTime),
  overdue: Type.Boolean({ description: 'An unmet step deadline has passed' }),
  extension: Nullable(
    Type.Object({
      requestedAt: IsoTime,
      by: Type.String(),
      reason: Type.String(),
      until: IsoTime,
      approved: Nullable(Type.Boolean()),
      decidedAt: Nullable(IsoTime),
      decidedBy: Nullable(Type.String()),
    }),
  ),
  parked: Nullable(Type.Object({ at: IsoTime, by: Type.String(), reason: Type.String() })),
  counters: Type.Object({
    returnCount: Type.Integer(),
    reworkCount: Type.Integer(),
    reopenCount: Type.Integer(),
    extensionCount: Type.Integer(),
    overdueCount: Type.Integer(),
  }),
  updatedAt: IsoTime,
};

export const CaseSummaryView = Type.Object(caseFields, { title: 'CaseSummary' });

const HistoryView = Type.Object({
  at: IsoTime,
  action: Type.String(),
  actor: Type.String({ description: "Token id, or 'system'" }),
  role: Type.String(),
  from: Nullable(Type.String()),
  to: Type.String(),
  note: Nullable(Type.String()),
  evidence: Type.Array(Type.String()),
});

export const CaseView = Type.Object({ ...caseFields, history: Type.Array(HistoryView), alerts: Type.Array(AlertSummaryView) }, { title: 'Case' });

function deadlineView(d: StepDeadline | null) {
  return d === null
    ? null
    : { startedAt: iso(d.startedAt), dueAt: iso(d.dueAt), basis: d.basis, metAt: isoOrNull(d.metAt), overdueLevel: d.overdueLevel, nextEscalationAt: isoOrNull(d.nextEscalationAt) };
}

export function caseSummary(c: GridCase, now: number): Static<typeof CaseSummaryView> {
  const final = c.state === 'cancelled' || c.state === 'closed' || c.state === 'evaluated';
  return {
    id: c.id,
    code: c.code,
    state: c.state,
    category: c.category,
    urgency: c.urgency,
    buildingId: c.buildingId,
    gridId: c.gridId,
    communityId: c.communityId,
    streetId: c.streetId,
    title: c.title,
    description: c.description,
    source: c.source,
    alertIds: [...c.alertIds],
    assignee: c.assignee,
    openedAt: iso(c.openedAt),
    times: Object.fromEntries(Object.entries(c.times).map(([k, v]) => [k, iso(v)])),
    disposal: c.disposal === null ? null : { at: iso(c.disposal.at), onTime: c.disposal.onTime },
    deadlines: { dispatch: deadlineView(c.deadlines.dispatch), accept: deadlineView(c.deadlines.accept), handle: deadlineView(c.deadlines.handle), check: deadlineView(c.deadlines.check) },
    dueAt: isoOrNull(c.dueAt),
    overdue: !final && Object.values(c.deadlines).some((d) => d !== null && d.metAt === null && d.dueAt < now),
    extension:
      c.extension === null
        ? null
        : { ...c.extension, requestedAt: iso(c.extension.requestedAt), until: iso(c.extension.until), decidedAt: isoOrNull(c.extension.decidedAt) },
    parked: c.parked === null ? null : { at: iso(c.parked.at), by: c.parked.by, reason: c.parked.reason },
    counters: { ...c.counters },
    updatedAt: iso(c.updatedAt),
  };
}

function caseView(deps: HttpDeps, c: GridCase, visibility: Visibility): Static<typeof CaseView> {
  const alerts = c.alertIds
    .map((id) => deps.alerts.get(id))
    .filter((a): a is NonNullable<typeof a> => a !== undefined && seesBuilding(visibility, a.source.buildingId))
    .map(alertSummary);
  return {
    ...caseSummary(c, deps.clock.now()),
    history: c.history.map((h) => ({ at: iso(h.at), action: h.action, actor: h.actor, role: h.role, from: h.from, to: h.to, note: h.note, evidence: [...h.evidence] })),
    alerts,
  };
}

/** Which levels of the hierarchy a token's scope names ('all' when unscoped). */
export function scopeLevels(token: ApiToken, site: SiteStore): ScopeLevel[] {
  if (token.scope.length === 0) return ['all'];
  const streets = new Set(site.streets().map((s) => s.id));
  const communities = new Set(site.communities().map((c) => c.id));
  const grids = new Set(site.grids().map((g) => g.id));
  return token.scope.map((id) => (streets.has(id) ? 'street' : communities.has(id) ? 'community' : grids.has(id) ? 'grid' : 'building'));
}

/** The actor a request acts as, or 403 GW_CASE_ROLE. */
export function actorFor(deps: HttpDeps, token: ApiToken, action: (typeof CASE_ACTIONS)[number] | 'open', asRole: CaseRole | undefined): CaseActor {
  const allowed = rolesForToken(token.role, scopeLevels(token, deps.site));
  // Reporting a case (上报) is open to every role a staff token may take.
  const role = action === 'open' ? (asRole !== undefined ? (allowed.includes(asRole) ? asRole : undefined) : allowed[0]) : resolveActingRole(allowed, action, asRole);
  if (role === undefined) {
    throw new HttpError('GW_CASE_ROLE', asRole === undefined ? `This token may not ${action} a case` : `This token may not act as '${asRole}'`, { allowedRoles: allowed });
  }
  return { id: token.id, role };
}

/** A case the caller may see, or 404. */
function visibleCase(deps: HttpDeps, visibility: Visibility, id: string): GridCase {
  const c = deps.cases.get(id);
  if (c === undefined || !seesBuilding(visibility, c.buildingId)) throw new HttpError('GW_NOT_FOUND', `No case '${id}'`);
  return c;
}

export function caseError(err: unknown): unknown {
  if (!(err instanceof CaseActionError)) return err;
  switch (err.code) {
    case 'not_found':
      return new HttpError('GW_NOT_FOUND', err.message);
    case 'invalid_transition':
      return new HttpError('GW_CASE_TRANSITION', err.message);
    case 'forbidden_role':
      return new HttpError('GW_CASE_ROLE', err.message);
    case 'invalid_argument':
      return new HttpError('GW_VALIDATION', err.message, [{ path: '/body', message: err.message }]);
  }
}

function readCursor(cursor: string | undefined): { openedAt: number; id: string } | undefined {
  if (cursor === undefined) return undefined;
  const m = /^(\d{1,16}):(.{1,64})$/s.exec(decodeCursor(cursor));
  if (m === null || m[1] === undefined || m[2] === undefined) throw invalidCursor();
  return { openedAt: Number(m[1]), id: m[2] };
}

const Evidence = Type.Array(Type.String({ minLength: 1, maxLength: 500, description: 'A reference: URL, content hash (sha256:…), id. Never the file itself.' }), { maxItems: 20 });
const AsRole = Type.Union(ACTING_ROLES.map((r) => Type.Literal(r)), { description: 'Act as this person-level role (must fit the token scope)' });

const TransitionBody = Type.Object(
  {
    action: Type.Union(CASE_ACTIONS.map((a) => Type.Literal(a))),
    note: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 1000 }))),
    evidence: Type.Optional(Evidence),
    asRole: Type.Optional(AsRole),
    assignee: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'dispatch: the handler (default: the grid worker of the building)' })),
    extendUntil: Type.Optional(TimeParam),
  },
  { additionalProperties: false },
);

const NewCaseBody = Type.Object(
  {
    buildingId: Type.String({ minLength: 1, maxLength: 64 }),
    category: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9_]*$' }),
    urgency: Type.Optional(Type.Union([Type.Literal('urgent'), Type.Literal('normal')], { default: 'normal' })),
    title: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    evidence: Type.Optional(Evidence),
    asRole: Type.Optional(AsRole),
  },
  { additionalProperties: false },
);

export const caseRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  app.get(
    '/cases',
    {
      config: { roles: CASE_READERS },
      schema: {
        tags: ['cases'],
        summary: "Grid cases in the caller's buildings, newest first",
        querystring: Type.Object({
          state: Type.Optional(Type.Union([...CASE_STATES.map((s) => Type.Literal(s)), Type.Literal('open')], { description: "'open': not cancelled, closed or evaluated" })),
          category: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          urgency: Type.Optional(Type.Union([Type.Literal('urgent'), Type.Literal('normal')])),
          buildingId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          gridId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          overdue: Type.Optional(Type.Boolean({ description: 'Only cases with (true) or without (false) a passed, unmet step deadline' })),
          since: Type.Optional(TimeParam),
          ...PageQuery,
        }),
        response: { 200: Page(CaseSummaryView, 'CasePage'), ...apiErrors },
      },
    },
    async (request) => {
      const { visibility } = authOf(request);
      const q = request.query;
      const limit = q.limit ?? DEFAULT_PAGE_LIMIT;
      let buildingIds: readonly string[] | undefined;
      if (visibility.all) buildingIds = q.buildingId === undefined ? undefined : [q.buildingId];
      else if (q.buildingId !== undefined) buildingIds = visibility.buildings.has(q.buildingId) ? [q.buildingId] : [];
      else buildingIds = [...visibility.buildings].sort();
      const since = parseTimeParam('since', q.since);
      const before = readCursor(q.cursor);
      if (buildingIds !== undefined && buildingIds.length === 0) return { items: [], nextCursor: null };
      const now = deps.clock.now();
      const query: CaseQuery = {
        limit: limit + 1,
        ...(q.state === undefined ? {} : { state: q.state }),
        ...(q.category === undefined ? {} : { category: q.category }),
        ...(q.urgency === undefined ? {} : { urgency: q.urgency }),
        ...(q.gridId === undefined ? {} : { gridId: q.gridId }),
        ...(buildingIds === undefined ? {} : { buildingIds }),
        ...(q.overdue === undefined ? {} : { overdue: q.overdue, now }),
        ...(since === undefined ? {} : { since }),
        ...(before === undefined ? {} : { before }),
      };
      const fetched = deps.cases.list(query);
      const page = fetched.slice(0, limit);
      const last = page[page.length - 1];
      return { items: page.map((c) => caseSummary(c, now)), nextCursor: fetched.length > limit && last !== undefined ? encodeCursor(`${last.openedAt}:${last.id}`) : null };
    },
  );

  app.get(
    '/cases/:id',
    {
      config: { roles: CASE_READERS },
      schema: { tags: ['cases'], summary: 'One case with its linked alerts and its history', params: IdParams, response: { 200: CaseView, ...apiErrors } },
    },
    async (request) => {
      const { visibility } = authOf(request);
      return caseView(deps, visibleCase(deps, visibility, request.params.id), visibility);
    },
  );

  app.post(
    '/cases',
    {
      config: { roles: CASE_ACTORS },
      schema: {
        tags: ['cases'],
        summary: 'Report a case (上报) found by a person; it starts at reported',
        body: NewCaseBody,
        response: { 201: CaseView, ...apiErrors },
      },
    },
    async (request, reply) => {
      const { token, visibility } = authOf(request);
      const body = request.body;
      if (deps.site.building(body.buildingId) === undefined || !seesBuilding(visibility, body.buildingId)) {
        throw new HttpError('GW_UNKNOWN_BUILDING', `No building '${body.buildingId}' visible to this token`);
      }
      const actor = actorFor(deps, token, 'open', body.asRole);
      try {
        const c = deps.cases.open(
          {
            place: { buildingId: body.buildingId, gridId: null, communityId: null, streetId: null },
            category: body.category,
            urgency: body.urgency ?? 'normal',
            title: body.title,
            description: body.description ?? '',
            ...(body.evidence === undefined ? {} : { evidence: body.evidence }),
          },
          actor,
        );
        return reply.code(201).send(caseView(deps, c, visibility));
      } catch (err) {
        throw caseError(err);
      }
    },
  );

  app.post(
    '/cases/:id/transitions',
    {
      config: { roles: CASE_ACTORS },
      schema: {
        tags: ['cases'],
        summary: 'Take one step of the case lifecycle (verify, register, dispatch, accept, return, …, park, resume)',
        params: IdParams,
        body: TransitionBody,
        response: { 200: CaseView, ...apiErrors, 409: ErrorBody },
      },
    },
    async (request) => {
      const { token, visibility } = authOf(request);
      const c = visibleCase(deps, visibility, request.params.id);
      const body = request.body;
      const actor = actorFor(deps, token, body.action, body.asRole);
      const extendUntil = parseTimeParam('extendUntil', body.extendUntil);
      try {
        const next = deps.cases.act(
          c.id,
          {
            action: body.action,
            note: body.note ?? null,
            ...(body.evidence === undefined ? {} : { evidence: body.evidence }),
            ...(body.assignee === undefined ? {} : { assignee: body.assignee }),
            ...(extendUntil === undefined ? {} : { extendUntil }),
          },
          actor,
        );
        return caseView(deps, next, visibility);
      } catch (err) {
        throw caseError(err);
      }
    },
  );
};
