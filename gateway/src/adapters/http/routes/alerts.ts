/**
 * Alerts: the list and one alert with its history and notification receipts, and the operator
 * actions of ISA-18.2 / IEC 62682 (acknowledge, shelve, unshelve, 屏蔽 disable/enable, reset).
 * The state machine lives behind `deps.alerts` (AlertService); this module maps HTTP onto it:
 * scope first (an alert outside the caller's buildings is a 404, like one that does not exist),
 * then the action, then AlertActionError onto the catalog.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { Alert } from '../../../domain/alerts/types.js';
import { ALERT_STATES } from '../../../domain/alerts/types.js';
import { SIGNAL_CLASSES } from '../../../domain/signal.js';
import { AlertActionError, type AlertQuery, type ApiRole, type NotificationReceipt } from '../../../ports.js';
import { authOf, type RouteOptions } from '../context.js';
import type { HttpDeps } from '../deps.js';
import { ErrorBody, HttpError } from '../errors.js';
import { seesBuilding, type Visibility } from '../scope.js';
import {
  DEFAULT_PAGE_LIMIT,
  IdParams,
  IsoTime,
  Nullable,
  Page,
  PageQuery,
  TimeParam,
  apiErrors,
  decodeCursor,
  encodeCursor,
  invalidCursor,
  iso,
  isoOrNull,
  parseTimeParam,
} from '../schemas.js';

/** Integrators connect sensors; alerts are for the people who answer them. */
export const ALERT_READERS: readonly ApiRole[] = ['admin', 'staff', 'captain'];
/** The building captain (栋长) is the first responder: acknowledge, shelve, and reset once on site. */
export const ALERT_RESPONDERS: readonly ApiRole[] = ['admin', 'staff', 'captain'];
/** 屏蔽 (out of service) silences a source for hours or days: safety staff only (domain.md §2). */
export const ALERT_DISABLERS: readonly ApiRole[] = ['admin', 'staff'];

/** Longest shelve the API accepts at all; the service enforces its own (configured) maximum. */
export const MAX_SHELVE_S = 7 * 24 * 3600;

const AlertStateSchema = Type.Union(ALERT_STATES.map((s) => Type.Literal(s)));
const SignalClassSchema = Type.Union(SIGNAL_CLASSES.map((c) => Type.Literal(c)));

const alertFields = {
  id: Type.String(),
  source: Type.Object({
    deviceId: Type.String(),
    kind: Type.String(),
    buildingId: Type.String(),
    floor: Nullable(Type.Integer()),
  }),
  type: Type.String({ description: "Stable dotted type, e.g. 'smoke.alarm', 'door.held_open', 'device.offline'" }),
  signalClass: SignalClassSchema,
  title: Type.String(),
  titleZh: Type.String(),
  detail: Type.String(),
  attrs: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  state: AlertStateSchema,
  latched: Type.Boolean({ description: 'Stays active until reset (fire, forced door)' }),
  verification: Nullable(Type.Union([Type.Literal('verifying'), Type.Literal('confirmed')])),
  raisedAt: IsoTime,
  lastSeenAt: IsoTime,
  count: Type.Integer({ description: 'Times the condition was raised while this alert was open' }),
  clearedAt: Nullable(IsoTime),
  acknowledgedAt: Nullable(IsoTime),
  acknowledgedBy: Nullable(Type.String()),
  shelvedUntil: Nullable(IsoTime),
  suppressedBy: Nullable(Type.String()),
  disabled: Nullable(Type.Object({ reason: Type.String(), until: IsoTime, by: Type.String() })),
  escalationLevel: Type.Integer({ description: '0 captains told, 1 grid worker, 2 community, 3 grid case' }),
  nextEscalationAt: Nullable(IsoTime),
  chattering: Type.Boolean(),
  closedAt: Nullable(IsoTime),
};

export const AlertSummaryView = Type.Object(alertFields, { title: 'AlertSummary' });

const HistoryEntryView = Type.Object({
  at: IsoTime,
  event: Type.String(),
  actor: Type.String({ description: "Token id for operator actions, 'system' otherwise" }),
  note: Nullable(Type.String()),
});

export const AlertView = Type.Object({ ...alertFields, history: Type.Array(HistoryEntryView) }, { title: 'Alert' });

const ReceiptView = Type.Object({
  id: Type.String(),
  personId: Type.String(),
  channel: Nullable(Type.String()),
  status: Type.Union([Type.Literal('pending'), Type.Literal('sent'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  createdAt: IsoTime,
  sentAt: Nullable(IsoTime),
  lastError: Nullable(Type.String()),
});

const AlertDetailView = Type.Object(
  { ...alertFields, history: Type.Array(HistoryEntryView), receipts: Type.Array(ReceiptView) },
  { title: 'AlertDetail' },
);

type AlertSummaryT = Static<typeof AlertSummaryView>;
type AlertViewT = Static<typeof AlertView>;

export function alertSummary(a: Alert): AlertSummaryT {
  return {
    id: a.id,
    source: { deviceId: a.source.deviceId, kind: a.source.kind, buildingId: a.source.buildingId, floor: a.source.floor },
    type: a.type,
    signalClass: a.signalClass,
    title: a.title,
    titleZh: a.titleZh,
    detail: a.detail,
    attrs: { ...a.attrs },
    state: a.state,
    latched: a.latched,
    verification: a.verification,
    raisedAt: iso(a.raisedAt),
    lastSeenAt: iso(a.lastSeenAt),
    count: a.count,
    clearedAt: isoOrNull(a.clearedAt),
    acknowledgedAt: isoOrNull(a.acknowledgedAt),
    acknowledgedBy: a.acknowledgedBy,
    shelvedUntil: isoOrNull(a.shelvedUntil),
    suppressedBy: a.suppressedBy,
    disabled: a.disabled === null ? null : { reason: a.disabled.reason, until: iso(a.disabled.until), by: a.disabled.by },
    escalationLevel: a.escalationLevel,
    nextEscalationAt: isoOrNull(a.nextEscalationAt),
    chattering: a.chattering,
    closedAt: isoOrNull(a.closedAt),
  };
}

export function alertView(a: Alert): AlertViewT {
  return {
    ...alertSummary(a),
    history: a.history.map((h) => ({ at: iso(h.at), event: h.event, actor: h.actor, note: h.note })),
  };
}

function receiptView(r: NotificationReceipt): Static<typeof ReceiptView> {
  return {
    id: r.id,
    personId: r.personId,
    channel: r.channel,
    status: r.status,
    attempts: r.attempts,
    createdAt: iso(r.createdAt),
    sentAt: isoOrNull(r.sentAt),
    lastError: r.lastError,
  };
}

/** An alert the caller may see, or 404: an out-of-scope alert is indistinguishable from none. */
function visibleAlert(deps: HttpDeps, visibility: Visibility, id: string): Alert {
  const alert = deps.alerts.get(id);
  if (alert === undefined || !seesBuilding(visibility, alert.source.buildingId)) {
    throw new HttpError('GW_NOT_FOUND', `No alert '${id}'`);
  }
  return alert;
}

/** The buildings a list may touch: undefined = all, [] = none. */
function scopedBuildings(visibility: Visibility, buildingId: string | undefined): readonly string[] | undefined {
  if (visibility.all) return buildingId === undefined ? undefined : [buildingId];
  if (buildingId !== undefined) return visibility.buildings.has(buildingId) ? [buildingId] : [];
  return [...visibility.buildings].sort();
}

/** Keyset cursor: the (raisedAt, id) of the last alert served. */
function readAlertCursor(cursor: string | undefined): { raisedAt: number; id: string } | undefined {
  if (cursor === undefined) return undefined;
  const m = /^(\d{1,16}):(.{1,64})$/s.exec(decodeCursor(cursor));
  if (m === null || m[1] === undefined || m[2] === undefined) throw invalidCursor();
  return { raisedAt: Number(m[1]), id: m[2] };
}

/** AlertActionError → the catalog; anything else is unexpected and stays a 500. */
function actionError(err: unknown): unknown {
  if (!(err instanceof AlertActionError)) return err;
  switch (err.code) {
    case 'not_found':
      return new HttpError('GW_NOT_FOUND', err.message);
    case 'invalid_transition':
      return new HttpError('GW_ALERT_TRANSITION', err.message);
    case 'invalid_argument':
      return new HttpError('GW_VALIDATION', err.message, [{ path: '/body', message: err.message }]);
  }
}

const Note = Type.String({ minLength: 1, maxLength: 1000 });
const Reason = Type.String({ minLength: 1, maxLength: 500 });
const NoteBody = Type.Object({ note: Type.Optional(Nullable(Note)) }, { additionalProperties: false });
const EmptyBody = Type.Object({}, { additionalProperties: false });
const ShelveBody = Type.Object(
  {
    durationS: Type.Integer({ minimum: 1, maximum: MAX_SHELVE_S, description: 'Auto-unshelve after this many seconds' }),
    reason: Reason,
  },
  { additionalProperties: false },
);
const DisableBody = Type.Object(
  { reason: Reason, until: Type.String({ format: 'date-time', description: 'Expiry (ISO 8601): 屏蔽 always ends' }) },
  { additionalProperties: false },
);

const actionResponses = { 200: AlertView, ...apiErrors, 409: ErrorBody };

export const alertRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  // POST /ack, /unshelve, /enable and /reset may come without a body at all (a bare button); the
  // schema still refuses unknown fields when one is sent.
  app.addHook('preValidation', async (request) => {
    if (request.method === 'POST' && request.body === undefined) request.body = {};
  });

  app.get(
    '/alerts',
    {
      config: { roles: ALERT_READERS },
      schema: {
        tags: ['alerts'],
        summary: 'Alerts in the caller\'s buildings, newest first',
        querystring: Type.Object({
          state: Type.Optional(
            Type.Union([...ALERT_STATES.map((s) => Type.Literal(s)), Type.Literal('open')], {
              description: "'open': not closed (any state but normal, or latched, shelved or disabled)",
            }),
          ),
          class: Type.Optional(SignalClassSchema),
          buildingId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          since: Type.Optional(TimeParam),
          ...PageQuery,
        }),
        response: { 200: Page(AlertSummaryView, 'AlertPage'), ...apiErrors },
      },
    },
    async (request) => {
      const { visibility } = authOf(request);
      const q = request.query;
      const limit = q.limit ?? DEFAULT_PAGE_LIMIT;
      const buildingIds = scopedBuildings(visibility, q.buildingId);
      const before = readAlertCursor(q.cursor);
      const since = parseTimeParam('since', q.since);
      if (buildingIds !== undefined && buildingIds.length === 0) return { items: [], nextCursor: null };
      const query: AlertQuery = {
        limit: limit + 1,
        ...(q.state === undefined ? {} : { state: q.state }),
        ...(q.class === undefined ? {} : { signalClass: q.class }),
        ...(buildingIds === undefined ? {} : { buildingIds }),
        ...(q.deviceId === undefined ? {} : { deviceId: q.deviceId }),
        ...(since === undefined ? {} : { since }),
        ...(before === undefined ? {} : { before }),
      };
      // One extra alert says whether another page exists without a count query.
      const fetched = deps.alerts.list(query);
      const page = fetched.slice(0, limit);
      const last = page[page.length - 1];
      const nextCursor = fetched.length > limit && last !== undefined ? encodeCursor(`${last.raisedAt}:${last.id}`) : null;
      return { items: page.map(alertSummary), nextCursor };
    },
  );

  app.get(
    '/alerts/:id',
    {
      config: { roles: ALERT_READERS },
      schema: {
        tags: ['alerts'],
        summary: 'One alert with its history and the notifications sent about it',
        params: IdParams,
        response: { 200: AlertDetailView, ...apiErrors },
      },
    },
    async (request) => {
      const alert = visibleAlert(deps, authOf(request).visibility, request.params.id);
      return { ...alertView(alert), receipts: deps.alerts.receipts(alert.id).map(receiptView) };
    },
  );

  /** Scope check, then the action as the calling token; the answer is the alert after it. */
  const act = (request: { params: { id: string } } & Parameters<typeof authOf>[0], run: (id: string, actor: string) => Alert) => {
    const { visibility, token } = authOf(request);
    const alert = visibleAlert(deps, visibility, request.params.id);
    try {
      return alertView(run(alert.id, token.id));
    } catch (err) {
      throw actionError(err);
    }
  };

  app.post(
    '/alerts/:id/ack',
    {
      config: { roles: ALERT_RESPONDERS },
      schema: {
        tags: ['alerts'],
        summary: 'Acknowledge (确认): someone is on it; an alert that already returned to normal closes',
        params: IdParams,
        body: NoteBody,
        response: actionResponses,
      },
    },
    async (request) => act(request, (id, actor) => deps.alerts.acknowledge(id, actor, request.body.note ?? null)),
  );

  app.post(
    '/alerts/:id/shelve',
    {
      config: { roles: ALERT_RESPONDERS },
      schema: {
        tags: ['alerts'],
        summary: 'Shelve for a while (ISA-18.2 timed shelving); unshelves by itself when the time is up',
        params: IdParams,
        body: ShelveBody,
        response: actionResponses,
      },
    },
    async (request) => act(request, (id, actor) => deps.alerts.shelve(id, actor, request.body.durationS, request.body.reason)),
  );

  app.post(
    '/alerts/:id/unshelve',
    {
      config: { roles: ALERT_RESPONDERS },
      schema: { tags: ['alerts'], summary: 'End a shelve early', params: IdParams, body: EmptyBody, response: actionResponses },
    },
    async (request) => act(request, (id, actor) => deps.alerts.unshelve(id, actor)),
  );

  app.post(
    '/alerts/:id/disable',
    {
      config: { roles: ALERT_DISABLERS },
      schema: {
        tags: ['alerts'],
        summary: 'Take the source out of service (屏蔽) with a reason and an expiry; audited',
        params: IdParams,
        body: DisableBody,
        response: actionResponses,
      },
    },
    async (request) => {
      const until = Date.parse(request.body.until);
      if (!Number.isFinite(until)) {
        throw new HttpError('GW_VALIDATION', 'until must be an ISO 8601 date-time', [{ path: '/body/until', message: 'not a time' }]);
      }
      return act(request, (id, actor) => deps.alerts.disable(id, actor, request.body.reason, until));
    },
  );

  app.post(
    '/alerts/:id/enable',
    {
      config: { roles: ALERT_DISABLERS },
      schema: { tags: ['alerts'], summary: 'Return a disabled (屏蔽) source to service', params: IdParams, body: EmptyBody, response: actionResponses },
    },
    async (request) => act(request, (id, actor) => deps.alerts.enable(id, actor)),
  );

  app.post(
    '/alerts/:id/reset',
    {
      config: { roles: ALERT_RESPONDERS },
      schema: {
        tags: ['alerts'],
        summary: 'Reset a latched alert (fire, forced door) once its condition has cleared (复位)',
        params: IdParams,
        body: NoteBody,
        response: actionResponses,
      },
    },
    async (request) => act(request, (id, actor) => deps.alerts.reset(id, actor, request.body.note ?? null)),
  );
};
