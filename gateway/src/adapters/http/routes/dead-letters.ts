/**
 * GET /api/v1/dead-letters: messages the ingest pipeline refused, newest first, with the reason
 * code from domain/rejection.ts, so an integrator can see why a new device's payloads bounce.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { REJECTION_REASONS, type RejectionReason } from '../../../domain/rejection.js';
import type { ApiRole, DeadLetter } from '../../../ports.js';
import { authOf, type RouteOptions } from '../context.js';
import { seesBuilding } from '../scope.js';
import {
  DEFAULT_PAGE_LIMIT,
  IsoTime,
  Nullable,
  PageQuery,
  apiErrors,
  decodeCursor,
  encodeCursor,
  invalidCursor,
  iso,
  Page,
} from '../schemas.js';

const DEAD_LETTER_READERS: readonly ApiRole[] = ['admin', 'integrator'];

const REASONS = Object.keys(REJECTION_REASONS) as RejectionReason[];

const DeadLetterView = Type.Object(
  {
    id: Type.Integer(),
    receivedAt: IsoTime,
    topic: Type.String(),
    deviceId: Nullable(Type.String()),
    reason: Type.Union(REASONS.map((r) => Type.Literal(r))),
    detail: Type.String(),
    size: Type.Integer({ minimum: 0, description: 'Size of the original payload in bytes' }),
    payload: Type.String({ description: 'The payload (maybe truncated): UTF-8 text, or base64' }),
    encoding: Type.Union([Type.Literal('utf8'), Type.Literal('base64')]),
    truncated: Type.Boolean(),
  },
  { title: 'DeadLetter' },
);

function view(d: DeadLetter) {
  return { ...d, receivedAt: iso(d.receivedAt) };
}

export const deadLetterRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  app.get(
    '/dead-letters',
    {
      config: { roles: DEAD_LETTER_READERS },
      schema: {
        tags: ['dead letters'],
        summary: 'Refused messages, newest first',
        querystring: Type.Object({
          reason: Type.Optional(Type.Union(REASONS.map((r) => Type.Literal(r)))),
          deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          before: Type.Optional(Type.Integer({ minimum: 1, description: 'Only dead letters with a smaller id' })),
          ...PageQuery,
        }),
        response: { 200: Page(DeadLetterView, 'DeadLetterPage'), ...apiErrors },
      },
    },
    async (request) => {
      const { visibility } = authOf(request);
      const q = request.query;
      const limit = q.limit ?? DEFAULT_PAGE_LIMIT;
      let before = q.before;
      if (q.cursor !== undefined) {
        const id = Number(decodeCursor(q.cursor));
        if (!Number.isSafeInteger(id) || id < 1) throw invalidCursor();
        before = before === undefined ? id : Math.min(before, id);
      }
      // A scoped integrator sees only dead letters of devices in its buildings (unknown devices'
      // letters carry no building, so they stay with unscoped callers).
      const visible = (d: DeadLetter) => {
        if (visibility.all) return true;
        const device = d.deviceId === null ? undefined : deps.site.device(d.deviceId);
        return device !== undefined && seesBuilding(visibility, device.buildingId);
      };
      const items: DeadLetter[] = [];
      let exhausted = false;
      // Filtering after the store's limit can leave a short page: read on until it is full.
      for (let rounds = 0; items.length < limit + 1 && !exhausted && rounds < 20; rounds++) {
        const batch = deps.deadLetters.list({
          limit: limit + 1,
          ...(before === undefined ? {} : { before }),
          ...(q.reason === undefined ? {} : { reason: q.reason }),
          ...(q.deviceId === undefined ? {} : { deviceId: q.deviceId }),
        });
        exhausted = batch.length < limit + 1;
        for (const d of batch) if (visible(d)) items.push(d);
        const last = batch[batch.length - 1];
        if (last === undefined) break;
        before = last.id;
      }
      const page = items.slice(0, limit);
      const last = page[page.length - 1];
      // More pages when we over-read, or when the scan stopped early (its position is the cursor).
      let next: number | null = null;
      if (items.length > limit && last !== undefined) next = last.id;
      else if (!exhausted && before !== undefined) next = before;
      return { items: page.map(view), nextCursor: next === null ? null : encodeCursor(String(next)) };
    },
  );
};
