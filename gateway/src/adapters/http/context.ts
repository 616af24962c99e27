/**
 * Fastify type augmentation for this adapter and the per-request auth accessor.
 */
import type { FastifyRequest } from 'fastify';
import type { ApiRole } from '../../ports.js';
import type { AuthContext } from './auth.js';
import { HttpError } from './errors.js';
import type { HttpDeps } from './deps.js';

export interface RouteSummary {
  readonly method: string;
  readonly url: string;
  readonly roles: readonly ApiRole[] | undefined;
  readonly hasResponseSchema: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles allowed on this route; every route under /api/v1 must declare them. */
    roles?: readonly ApiRole[];
  }
  interface FastifyRequest {
    auth: AuthContext | null;
  }
  interface FastifyInstance {
    /** Every route registered by this adapter, for the route-contract tests and docs. */
    readonly gridwatchRoutes: readonly RouteSummary[];
  }
}

/** The caller's identity; only valid on routes that declare roles (the hook has run). */
export function authOf(request: FastifyRequest): AuthContext {
  if (request.auth === null) throw new HttpError('GW_INTERNAL', 'route declares no roles but reads the caller');
  return request.auth;
}

export interface RouteOptions {
  readonly deps: HttpDeps;
}
