/**
 * Schemas and helpers shared by the route modules: pagination, timestamps, error responses.
 * Every schema here is TypeBox, i.e. plain JSON Schema, so the same object validates requests,
 * serialises responses and documents the route in OpenAPI.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ErrorBody, HttpError } from './errors.js';

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const IsoTime = Type.String({ format: 'date-time', description: 'ISO 8601 date-time (UTC)' });

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'nextCursor from the previous page' })),
};

export const Page = <T extends TSchema>(item: T, title: string) =>
  Type.Object(
    {
      items: Type.Array(item),
      nextCursor: Nullable(Type.String({ description: 'Pass as ?cursor= for the next page; null on the last page' })),
    },
    { title },
  );

export interface PageOf<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Keyset pagination over an in-memory list sorted by `key`: the cursor is the last key served
 * (opaque base64url), so pages stay stable while items are added or removed.
 */
export function paginate<T>(all: readonly T[], key: (item: T) => string, limit: number, cursor: string | undefined): PageOf<T> {
  const sorted = [...all].sort((a, b) => compare(key(a), key(b)));
  let start = 0;
  if (cursor !== undefined) {
    const after = decodeCursor(cursor);
    start = sorted.findIndex((item) => compare(key(item), after) > 0);
    if (start < 0) start = sorted.length;
  }
  const items = sorted.slice(start, start + limit);
  const last = items[items.length - 1];
  const more = start + limit < sorted.length;
  return { items, nextCursor: more && last !== undefined ? encodeCursor(key(last)) : null };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function encodeCursor(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalidCursor();
  return Buffer.from(cursor, 'base64url').toString('utf8');
}

export function invalidCursor(): HttpError {
  return new HttpError('GW_VALIDATION', 'cursor is not one this API issued', [{ path: '/cursor', message: 'invalid cursor' }]);
}

/**
 * Time bounds in query strings: ISO 8601 date-time or epoch milliseconds (the same two forms
 * devices may use for `ts`).
 */
export const TimeParam = Type.String({
  minLength: 1,
  maxLength: 40,
  description: 'ISO 8601 date-time or epoch milliseconds',
});

export function parseTimeParam(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  let ms = Number.NaN;
  if (/^\d{1,16}$/.test(value)) ms = Number(value);
  else if (/^\d{4}-\d{2}-\d{2}T/.test(value)) ms = Date.parse(value);
  if (!Number.isFinite(ms) || ms > 8_640_000_000_000_000) {
    throw new HttpError('GW_VALIDATION', `${name} must be an ISO 8601 date-time or epoch milliseconds`, [
      { path: `/${name}`, message: 'not a time' },
    ]);
  }
  return ms;
}

/** Error responses every /api/v1 route may give (documented in OpenAPI for each route). */
export const apiErrors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  429: ErrorBody,
  500: ErrorBody,
} as const;

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export type IdParamsT = Static<typeof IdParams>;
