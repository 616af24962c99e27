/**
 * GET /api/v1/kinds and /api/v1/kinds/:id: the sensor-kind registry as integrators need it,
 * with each channel's JSON Schema, one valid example payload per channel and the MQTT topics.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { KindDefinition } from '../../../domain/kind.js';
import { SIGNAL_CLASSES } from '../../../domain/signal.js';
import type { ApiRole } from '../../../ports.js';
import type { RouteOptions } from '../context.js';
import { HttpError } from '../errors.js';
import { IdParams, Page, PageQuery, apiErrors, paginate, DEFAULT_PAGE_LIMIT } from '../schemas.js';
import { mulberry32 } from '../../../domain/random.js';

/** Reading what kinds exist harms no one and every role needs it to interpret devices. */
const KIND_READERS: readonly ApiRole[] = ['admin', 'staff', 'captain', 'integrator'];

const JsonSchemaDoc = Type.Record(Type.String(), Type.Unknown(), { description: 'Plain JSON Schema (draft 7 compatible)' });
const JsonPayload = Type.Record(Type.String(), Type.Unknown(), { description: 'An example payload' });

export const KindView = Type.Object(
  {
    id: Type.String(),
    title: Type.String(),
    titleZh: Type.String(),
    description: Type.String(),
    measurements: Type.Array(
      Type.Object({
        name: Type.String(),
        title: Type.String(),
        titleZh: Type.String(),
        unit: Type.String(),
        min: Type.Number(),
        max: Type.Number(),
        integer: Type.Boolean(),
      }),
    ),
    events: Type.Array(
      Type.Object({
        type: Type.String(),
        signalClass: Type.Union(SIGNAL_CLASSES.map((c) => Type.Literal(c))),
        title: Type.String(),
        titleZh: Type.String(),
      }),
    ),
    heartbeat: Type.Object({
      power: Type.Union([Type.Literal('mains'), Type.Literal('battery')]),
      intervalS: Type.Number(),
      offlineAfterS: Type.Number(),
    }),
    schemas: Type.Object({ telemetry: JsonSchemaDoc, event: JsonSchemaDoc }),
    examples: Type.Object({ telemetry: JsonPayload, event: JsonPayload }),
    topics: Type.Object({ telemetry: Type.String(), event: Type.String(), status: Type.String() }),
  },
  { title: 'Kind' },
);
export type KindViewT = Static<typeof KindView>;

/** Fixed inputs so the examples are the same on every start (documentation and tests diff cleanly). */
const EXAMPLE_SEED = 20_250_101;
const EXAMPLE_NOW = Date.UTC(2025, 0, 1, 8, 0, 0);


/** JSON round trip: drops TypeBox's symbol keys and anything else that is not plain JSON. */
function plainJson(value: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

export function kindView(kind: KindDefinition, topicRoot: string): KindViewT {
  const ctx = (seq: number) => ({
    rng: mulberry32(EXAMPLE_SEED + seq),
    now: EXAMPLE_NOW,
    seq,
    deviceId: `${kind.id}-001`,
    state: {},
  });
  const topic = (channel: string) => `${topicRoot}/{deviceId}/${channel}`;
  return {
    id: kind.id,
    title: kind.title,
    titleZh: kind.titleZh,
    description: kind.description,
    measurements: kind.measurements.map((m) => ({
      name: m.name,
      title: m.title,
      titleZh: m.titleZh,
      unit: m.unit,
      min: m.min,
      max: m.max,
      integer: m.integer === true,
    })),
    events: kind.events.map((e) => ({ type: e.type, signalClass: e.signalClass, title: e.title, titleZh: e.titleZh })),
    heartbeat: { ...kind.heartbeat },
    schemas: { telemetry: plainJson(kind.telemetrySchema), event: plainJson(kind.eventSchema) },
    examples: { telemetry: plainJson(kind.sample.telemetry(ctx(1))), event: plainJson(kind.sample.event(ctx(2))) },
    topics: { telemetry: topic('telemetry'), event: topic('event'), status: topic('status') },
  };
}

export const kindRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  // Kinds are fixed for the life of the process: derive the views once, at start-up, so a kind
  // whose sample generator throws fails the start rather than a request.
  const views = deps.kinds.map((k) => kindView(k, deps.mqtt.topicRoot));
  const byId = new Map(views.map((v) => [v.id, v]));

  app.get(
    '/kinds',
    {
      config: { roles: KIND_READERS },
      schema: {
        tags: ['kinds'],
        summary: 'List sensor kinds',
        querystring: Type.Object(PageQuery),
        response: { 200: Page(KindView, 'KindPage'), ...apiErrors },
      },
    },
    async (request) => paginate(views, (v) => v.id, request.query.limit ?? DEFAULT_PAGE_LIMIT, request.query.cursor),
  );

  app.get(
    '/kinds/:id',
    {
      config: { roles: KIND_READERS },
      schema: {
        tags: ['kinds'],
        summary: 'One sensor kind with its payload schemas, examples and topics',
        params: IdParams,
        response: { 200: KindView, ...apiErrors },
      },
    },
    async (request) => {
      const view = byId.get(request.params.id);
      if (view === undefined) throw new HttpError('GW_NOT_FOUND', `No kind '${request.params.id}'`);
      return view;
    },
  );
};
