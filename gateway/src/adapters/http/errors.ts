/**
 * The HTTP API's error catalog. Codes are a public contract: integrators branch on them, so add
 * codes and never rename one. Every error response has the shape
 * `{ error: { code, message, details? } }` (see README.md for the table; a test keeps the two in step).
 */
import { Type, type Static } from '@sinclair/typebox';

export const ERROR_CATALOG = {
  GW_BAD_REQUEST: { status: 400, message: 'The request could not be read (malformed JSON or headers)' },
  GW_VALIDATION: { status: 400, message: 'The request does not match the schema' },
  GW_UNKNOWN_KIND: { status: 400, message: 'No sensor kind is registered with this id' },
  GW_UNKNOWN_BUILDING: { status: 400, message: 'No building with this id is visible to the caller' },
  GW_UNKNOWN_PARENT: { status: 400, message: 'No device with this parent id is visible to the caller' },
  GW_UNKNOWN_SCOPE: { status: 400, message: 'A scope id names no street, community, grid or building' },
  GW_UNAUTHORIZED: { status: 401, message: 'A valid bearer token is required' },
  GW_FORBIDDEN: { status: 403, message: "The token's role may not use this route" },
  GW_NOT_FOUND: { status: 404, message: 'No such resource' },
  GW_RULES_INVALID: { status: 400, message: 'The rule overrides are invalid' },
  GW_ACK_LINK_INVALID: { status: 400, message: 'The acknowledge link is malformed or was not issued by this gateway' },
  GW_CONFLICT: { status: 409, message: 'A resource with this id already exists' },
  GW_ALERT_TRANSITION: { status: 409, message: 'The alert is not in a state that allows this action' },
  GW_CASE_TRANSITION: { status: 409, message: 'The case is not in a state that allows this action' },
  GW_CASE_ROLE: { status: 403, message: 'The role the token acts as may not take this case action' },
  GW_ACK_LINK_EXPIRED: { status: 410, message: 'The acknowledge link has expired' },
  GW_PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  GW_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body must be application/json' },
  GW_RATE_LIMITED: { status: 429, message: 'Too many failed authentication attempts from this address' },
  GW_INTERNAL: { status: 500, message: 'Internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** A failure a handler raises on purpose; the error handler turns it into the catalog shape. */
export class HttpError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CATALOG[code].message,
    readonly details?: unknown,
    /** Extra response headers, e.g. Retry-After on GW_RATE_LIMITED. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = ERROR_CATALOG[code].status;
  }
}

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable code from the error catalog, e.g. GW_NOT_FOUND' }),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { title: 'Error' },
);
export type ErrorBodyT = Static<typeof ErrorBody>;

export function errorBody(code: ErrorCode, message?: string, details?: unknown): ErrorBodyT {
  return {
    error: { code, message: message ?? ERROR_CATALOG[code].message, ...(details === undefined ? {} : { details }) },
  };
}
