/**
 * API tokens: created by an admin, shown once, stored as SHA-256 (see adapters/secrets.ts),
 * listed without hashes, revoked by id.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { generateToken, hashToken } from '../../secrets.js';
import { API_ROLES, type ApiRole, type ApiToken } from '../../../ports.js';
import type { RouteOptions } from '../context.js';
import { ErrorBody, HttpError } from '../errors.js';
import { hierarchyIndex } from '../scope.js';
import { DEFAULT_PAGE_LIMIT, IdParams, IsoTime, Nullable, Page, PageQuery, apiErrors, iso, isoOrNull, paginate } from '../schemas.js';

const TOKEN_ADMINS: readonly ApiRole[] = ['admin'];

const Role = Type.Union(API_ROLES.map((r) => Type.Literal(r)));

const TokenView = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    role: Role,
    scope: Type.Array(Type.String()),
    createdAt: IsoTime,
    expiresAt: Nullable(IsoTime),
    revoked: Type.Boolean(),
  },
  { title: 'Token' },
);

const NewToken = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: Role,
    scope: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
        maxItems: 500,
        uniqueItems: true,
        description: 'Building ids for a captain; grid, community or street ids for staff; empty = everything',
      }),
    ),
    expiresAt: Type.Optional(Nullable(IsoTime)),
  },
  { additionalProperties: false, title: 'NewToken' },
);

const CreatedToken = Type.Object(
  { token: Type.String({ description: 'The bearer token. Shown in this response only.' }), ...TokenView.properties },
  { title: 'CreatedToken' },
);

function view(t: ApiToken) {
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    scope: [...t.scope],
    createdAt: iso(t.createdAt),
    expiresAt: isoOrNull(t.expiresAt),
    revoked: t.revoked,
  };
}

export const tokenRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  app.post(
    '/tokens',
    {
      config: { roles: TOKEN_ADMINS },
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token; the answer carries the token, shown this once',
        body: NewToken,
        response: { 201: CreatedToken, ...apiErrors, 409: ErrorBody },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const now = deps.clock.now();
      const scope = body.scope ?? [];
      const tree = hierarchyIndex(deps.site);
      const unknown = scope.filter((id) => !tree.has(id));
      if (unknown.length > 0) throw new HttpError('GW_UNKNOWN_SCOPE', `Unknown scope ids: ${unknown.join(', ')}`, { unknown });
      if (body.role === 'captain') {
        // A captain (栋长) answers for named buildings: an empty or non-building scope is a mistake.
        const buildingIds = new Set(deps.site.buildings().map((b) => b.id));
        if (scope.length === 0 || scope.some((id) => !buildingIds.has(id))) {
          throw new HttpError('GW_VALIDATION', 'A captain token needs a scope of one or more building ids', [
            { path: '/scope', message: 'building ids required for role captain' },
          ]);
        }
      }
      const expiresAt = body.expiresAt == null ? null : Date.parse(body.expiresAt);
      if (expiresAt !== null && !(expiresAt > now)) {
        throw new HttpError('GW_VALIDATION', 'expiresAt must be in the future', [{ path: '/expiresAt', message: 'not in the future' }]);
      }
      const token = generateToken();
      const meta: ApiToken = {
        id: randomUUID(),
        name: body.name,
        role: body.role,
        scope: body.role === 'admin' ? [] : scope,
        createdAt: now,
        expiresAt,
        revoked: false,
      };
      deps.tokens.createToken(meta, hashToken(token));
      request.log.info({ tokenId: meta.id, role: meta.role }, 'api token created');
      return reply.code(201).send({ token, ...view(meta) });
    },
  );

  app.get(
    '/tokens',
    {
      config: { roles: TOKEN_ADMINS },
      schema: {
        tags: ['tokens'],
        summary: 'List API tokens (never their values or hashes)',
        querystring: Type.Object(PageQuery),
        response: { 200: Page(TokenView, 'TokenPage'), ...apiErrors },
      },
    },
    async (request) => {
      const items = deps.tokens.tokens().map(view);
      return paginate(items, (t) => t.id, request.query.limit ?? DEFAULT_PAGE_LIMIT, request.query.cursor);
    },
  );

  app.delete(
    '/tokens/:id',
    {
      config: { roles: TOKEN_ADMINS },
      schema: {
        tags: ['tokens'],
        summary: 'Revoke an API token (takes effect on the next request)',
        params: IdParams,
        response: { 204: Type.Null({ description: 'Revoked' }), ...apiErrors },
      },
    },
    async (request, reply) => {
      const token = deps.tokens.tokens().find((t) => t.id === request.params.id);
      if (token === undefined) throw new HttpError('GW_NOT_FOUND', `No token '${request.params.id}'`);
      deps.tokens.revokeToken(token.id);
      request.log.info({ tokenId: token.id }, 'api token revoked');
      return reply.code(204).send(null);
    },
  );
};
