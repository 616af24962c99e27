/**
 * Bearer-token authentication (RFC 6750), role checks and the failed-attempt limiter.
 * Every route under /api/v1 declares its roles in `config.roles`; the onRequest hook in app.ts
 * calls `authorize()` before the body is even parsed, so an anonymous caller learns nothing from
 * validation errors.
 */
import type { FastifyRequest } from 'fastify';
import { hashToken } from '../secrets.js';
import type { ApiRole, ApiToken, Clock, SiteStore, TokenStore } from '../../ports.js';
import { HttpError } from './errors.js';
import { resolveVisibility, type Visibility } from './scope.js';

export interface AuthContext {
  readonly token: ApiToken;
  readonly visibility: Visibility;
}

export interface AuthLimits {
  /** Failed attempts allowed per address within the window before it is refused. */
  readonly maxFailures: number;
  readonly windowMs: number;
  /** Addresses tracked at once; the oldest are forgotten first (bounds memory under a spray). */
  readonly maxAddresses: number;
}

export const DEFAULT_AUTH_LIMITS: AuthLimits = { maxFailures: 10, windowMs: 60_000, maxAddresses: 10_000 };

/**
 * Counts failed authentications per client address in a sliding window on the injected clock.
 * Once an address reaches the limit every request from it that needs a token is refused with
 * 429 until the oldest failure leaves the window, valid token or not: otherwise a brute-force
 * client could still tell a hit from a miss.
 */
export class AuthFailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: AuthLimits = DEFAULT_AUTH_LIMITS,
  ) {}

  /** Milliseconds until this address may try again; 0 when it may try now. */
  retryAfterMs(address: string): number {
    const recent = this.recent(address);
    if (recent.length < this.limits.maxFailures) return 0;
    const oldest = recent[recent.length - this.limits.maxFailures] ?? this.clock.now();
    return Math.max(1, oldest + this.limits.windowMs - this.clock.now());
  }

  recordFailure(address: string): void {
    const recent = this.recent(address);
    recent.push(this.clock.now());
    // Re-insert so Map order is least-recently-failed first, then evict beyond the bound.
    this.failures.delete(address);
    this.failures.set(address, recent.slice(-this.limits.maxFailures));
    while (this.failures.size > this.limits.maxAddresses) {
      const first = this.failures.keys().next();
      if (first.done) break;
      this.failures.delete(first.value);
    }
  }

  /** Addresses currently tracked (for tests and metrics). */
  get size(): number {
    return this.failures.size;
  }

  private recent(address: string): number[] {
    const since = this.clock.now() - this.limits.windowMs;
    const list = (this.failures.get(address) ?? []).filter((t) => t > since);
    if (list.length === 0) this.failures.delete(address);
    else this.failures.set(address, list);
    return list;
  }
}

const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]{1,512})$/i;

export interface Authorizer {
  authorize(request: FastifyRequest, roles: readonly ApiRole[]): AuthContext;
}

export function createAuthorizer(deps: { clock: Clock; tokens: TokenStore; site: SiteStore }, limiter: AuthFailureLimiter): Authorizer {
  return {
    authorize(request, roles) {
      const address = request.ip;
      const waitMs = limiter.retryAfterMs(address);
      if (waitMs > 0) {
        const seconds = Math.ceil(waitMs / 1000);
        throw new HttpError('GW_RATE_LIMITED', `Too many failed authentication attempts; retry in ${seconds} s`, undefined, {
          'retry-after': String(seconds),
        });
      }
      const header = request.headers.authorization;
      // A missing header is a caller that forgot the token, not a guess: refuse without counting.
      if (header === undefined || header === '') throw unauthorized('Missing Authorization: Bearer <token> header');
      const match = BEARER.exec(header);
      const token = match?.[1] === undefined ? undefined : deps.tokens.tokenByHash(hashToken(match[1]));
      const now = deps.clock.now();
      if (token === undefined || token.revoked || (token.expiresAt !== null && token.expiresAt <= now)) {
        limiter.recordFailure(address);
        // One message for unknown, revoked and expired tokens: do not help a guesser.
        throw unauthorized('The bearer token is invalid, revoked or expired');
      }
      if (!roles.includes(token.role)) {
        throw new HttpError('GW_FORBIDDEN', `Role '${token.role}' may not use this route`, { allowedRoles: roles });
      }
      return { token, visibility: resolveVisibility(token, deps.site) };
    },
  };
}

function unauthorized(message: string): HttpError {
  // RFC 6750 §3: a 401 names the scheme the client should use.
  return new HttpError('GW_UNAUTHORIZED', message, undefined, { 'www-authenticate': 'Bearer realm="gridwatch"' });
}
