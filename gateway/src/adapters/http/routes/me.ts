/**
 * GET /api/v1/me: who the caller's token is. The console asks once after sign-in to know which
 * case transitions to offer (and a script can check a token without side effects). Any valid
 * token may ask; the answer is the token's own metadata, never its value or hash.
 *
 * `caseRoles` are the person-level roles the token may act as on cases (domain/cases/lifecycle.ts
 * `rolesForToken`, from the token's scope level): admin → every role; staff scoped to a grid →
 * grid_worker; to a community → community_staff, grid_worker; to a street or unscoped →
 * street_dispatcher, community_staff, grid_worker; captains and integrators → none.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { rolesForToken } from '../../../domain/cases/lifecycle.js';
import { CASE_ROLES } from '../../../domain/cases/types.js';
import { API_ROLES, type ApiRole } from '../../../ports.js';
import { authOf, type RouteOptions } from '../context.js';
import { IsoTime, Nullable, apiErrors, isoOrNull } from '../schemas.js';
import { scopeLevels } from './cases.js';

/** Every valid token may read its own identity. */
export const ME_READERS: readonly ApiRole[] = API_ROLES;

export const MeView = Type.Object(
  {
    id: Type.String({ description: 'The token id (as in the audit log)' }),
    name: Type.String(),
    role: Type.Union(API_ROLES.map((r) => Type.Literal(r))),
    scope: Type.Array(Type.String(), { description: 'Hierarchy ids the token may see; empty = everything' }),
    expiresAt: Nullable(IsoTime),
    caseRoles: Type.Array(Type.Union(CASE_ROLES.filter((r) => r !== 'system').map((r) => Type.Literal(r))), {
      description: 'Person-level roles this token may act as on grid cases (`asRole`); empty for captains and integrators',
    }),
  },
  { title: 'Me' },
);

export const meRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  app.get(
    '/me',
    {
      config: { roles: ME_READERS },
      schema: { tags: ['tokens'], summary: "The caller's token: id, name, role, scope and the case roles it may act as", response: { 200: MeView, ...apiErrors } },
    },
    async (request) => {
      const { token } = authOf(request);
      const caseRoles = rolesForToken(token.role, scopeLevels(token, deps.site)).filter((r) => r !== 'system');
      return { id: token.id, name: token.name, role: token.role, scope: [...token.scope], expiresAt: isoOrNull(token.expiresAt), caseRoles };
    },
  );
};
