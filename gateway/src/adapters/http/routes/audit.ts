/**
 * The audit log: `auditHook` (an onResponse hook, registered by app.ts) writes one entry per
 * mutating /api/v1 request and per refused authentication (401, 403) on any /api/v1 route;
 * GET /api/v1/audit lists them for admins, newest first.
 *
 * An entry names the route pattern and its :id, never the raw URL or the body: bodies carry
 * device secrets and new tokens, and query strings may carry anything.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiRole, AuditEntry, AuditOutcome, Clock, TokenStore } from '../../../ports.js';
import { hashToken } from '../../secrets.js';
import type { RouteOptions } from '../context.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import {
  DEFAULT_PAGE_LIMIT,
  IsoTime,
  Nullable,
  Page,
  PageQuery,
  MAX_PAGE_LIMIT,
  TimeParam,
  apiErrors,
  decodeCursor,
  encodeCursor,
  invalidCursor,
  iso,
  parseTimeParam,
} from '../schemas.js';

export const AUDIT_READERS: readonly ApiRole[] = ['admin'];

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Recorded on every route. 429 is not: a client locked out by the limiter would otherwise write a row per request. */
const REFUSED = new Set([401, 403]);
const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]{1,512})$/i;

export function outcomeOf(status: number): AuditOutcome {
  if (REFUSED.has(status) || status === 429) return 'refused';
  return status < 400 ? 'ok' : 'failed';
}

/**
 * Who made the request: the authenticated token, or for a 403 the token the role check refused
 * (the caller is known, only not allowed). Never the token itself.
 */
function callerOf(request: FastifyRequest, tokens: TokenStore): { actor: string | null; role: ApiRole | null } {
  if (request.auth !== null) return { actor: request.auth.token.id, role: request.auth.token.role };
  const m = BEARER.exec(request.headers.authorization ?? '');
  const token = m?.[1] === undefined ? undefined : tokens.tokenByHash(hashToken(m[1]));
  return token === undefined ? { actor: null, role: null } : { actor: token.id, role: token.role };
}

export function auditHook(deps: Pick<HttpDeps, 'audit' | 'tokens'> & { clock: Clock }, prefix: string) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const pattern = request.routeOptions.url;
    if (pattern === undefined || !pattern.startsWith(prefix)) return;
    const status = reply.statusCode;
    if (status === 429) return;
    const refused = REFUSED.has(status);
    if (!MUTATING.has(request.method) && !refused) return;
    const params = request.params as Record<string, unknown> | undefined;
    const id = params?.id;
    // A 401 may carry a guessed token: the caller lookup is skipped, there is nobody to name.
    const caller = status === 401 ? { actor: null, role: null } : callerOf(request, deps.tokens);
    try {
      deps.audit.record({
        at: deps.clock.now(),
        ...caller,
        action: `${request.method} ${pattern}`,
        target: typeof id === 'string' ? id : null,
        ip: request.ip,
        status,
        outcome: outcomeOf(status),
      });
    } catch (err) {
      // The answer is already sent; a full disk must not turn into an unhandled rejection.
      request.log.error({ err }, 'audit log write failed');
    }
  };
}

const AuditEntryView = Type.Object(
  {
    id: Type.Integer(),
    at: IsoTime,
    actor: Nullable(Type.String({ description: 'Token id; null when no valid token was presented' })),
    role: Nullable(Type.String()),
    action: Type.String({ description: "Method and route pattern, e.g. 'POST /api/v1/alerts/:id/ack'" }),
    target: Nullable(Type.String({ description: 'The :id the route names' })),
    ip: Type.String(),
    status: Type.Integer(),
    outcome: Type.Union([Type.Literal('ok'), Type.Literal('refused'), Type.Literal('failed')]),
  },
  { title: 'AuditEntry' },
);

function view(e: AuditEntry) {
  return { id: e.id, at: iso(e.at), actor: e.actor, role: e.role, action: e.action, target: e.target, ip: e.ip, status: e.status, outcome: e.outcome };
}

export const auditRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  app.get(
    '/audit',
    {
      config: { roles: AUDIT_READERS },
      schema: {
        tags: ['audit'],
        summary: 'Who did what: mutating requests and refused authentications, newest first',
        querystring: Type.Object({
          actor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Token id' })),
          action: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "e.g. 'POST /api/v1/alerts/:id/ack'" })),
          target: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          outcome: Type.Optional(Type.Union([Type.Literal('ok'), Type.Literal('refused'), Type.Literal('failed')])),
          since: Type.Optional(TimeParam),
          until: Type.Optional(TimeParam),
          ...PageQuery,
        }),
        response: { 200: Page(AuditEntryView, 'AuditPage'), ...apiErrors },
      },
    },
    async (request) => {
      const q = request.query;
      // The schema caps limit, but a numeric string like 1e309 reaches here as Infinity: clamp again
      // so SQLite is never handed a non-integer LIMIT.
      const limit = Number.isSafeInteger(q.limit) ? Math.min(q.limit as number, MAX_PAGE_LIMIT) : DEFAULT_PAGE_LIMIT;
      let beforeId: number | undefined;
      if (q.cursor !== undefined) {
        const raw = decodeCursor(q.cursor);
        if (!/^\d{1,15}$/.test(raw)) throw invalidCursor();
        beforeId = Number(raw);
      }
      const since = parseTimeParam('since', q.since);
      const until = parseTimeParam('until', q.until);
      if (since !== undefined && until !== undefined && until < since) {
        throw new HttpError('GW_VALIDATION', 'until is before since', [{ path: '/querystring/until', message: 'before since' }]);
      }
      const fetched = deps.audit.list({
        limit: limit + 1,
        ...(q.actor === undefined ? {} : { actor: q.actor }),
        ...(q.action === undefined ? {} : { action: q.action }),
        ...(q.target === undefined ? {} : { target: q.target }),
        ...(q.outcome === undefined ? {} : { outcome: q.outcome }),
        ...(since === undefined ? {} : { since }),
        ...(until === undefined ? {} : { until }),
        ...(beforeId === undefined ? {} : { beforeId }),
      });
      const page = fetched.slice(0, limit);
      const last = page[page.length - 1];
      return { items: page.map(view), nextCursor: fetched.length > limit && last !== undefined ? encodeCursor(String(last.id)) : null };
    },
  );
};
