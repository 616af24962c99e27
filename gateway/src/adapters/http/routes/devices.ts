/**
 * Devices: registration (returns the MQTT secret exactly once), listing with live state, and the
 * device's readings and events from the embedded time-series store.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { DEVICE_ID_PATTERN, type Device } from '../../../domain/site.js';
import { DeviceExistsError, type ApiRole, type DeviceState } from '../../../ports.js';
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
  paginate,
  parseTimeParam,
} from '../schemas.js';

const DEVICE_READERS: readonly ApiRole[] = ['admin', 'staff', 'captain', 'integrator'];
const DEVICE_REGISTRARS: readonly ApiRole[] = ['admin', 'integrator'];

export const DEFAULT_SERIES_WINDOW_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_SERIES_LIMIT = 1000;
export const MAX_SERIES_LIMIT = 10_000;

const DEVICE_STATUS = Type.Union([Type.Literal('never_seen'), Type.Literal('online'), Type.Literal('offline')]);

export const DeviceView = Type.Object(
  {
    id: Type.String(),
    kind: Type.String(),
    name: Nullable(Type.String()),
    buildingId: Type.String(),
    building: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
    floor: Nullable(Type.Integer()),
    parentId: Nullable(Type.String()),
    disabled: Type.Boolean(),
    createdAt: IsoTime,
    status: DEVICE_STATUS,
    lastSeen: Nullable(IsoTime),
    statusChangedAt: Nullable(IsoTime),
    latest: Type.Record(Type.String(), Type.Object({ value: Type.Number(), ts: IsoTime }), {
      description: 'Latest value per measurement',
    }),
  },
  { title: 'Device' },
);
type DeviceViewT = Static<typeof DeviceView>;

const NewDeviceBody = Type.Object(
  {
    id: Type.String({ pattern: DEVICE_ID_PATTERN.source, description: 'Also the MQTT username and topic level' }),
    kind: Type.String({ minLength: 1, maxLength: 32 }),
    buildingId: Type.String({ minLength: 1, maxLength: 64 }),
    floor: Type.Optional(Nullable(Type.Integer({ minimum: -20, maximum: 300 }))),
    name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))),
    parentId: Type.Optional(Nullable(Type.String({ pattern: DEVICE_ID_PATTERN.source }))),
  },
  { additionalProperties: false, title: 'NewDevice' },
);

const Registration = Type.Object(
  {
    device: DeviceView,
    secret: Type.String({ description: 'The MQTT password. Shown in this response only; store it now.' }),
    mqtt: Type.Object({
      username: Type.String(),
      clientId: Type.String(),
      topics: Type.Object({ telemetry: Type.String(), event: Type.String(), status: Type.String() }),
      tcpUrl: Nullable(Type.String()),
      webSocketPath: Nullable(Type.String()),
    }),
  },
  { title: 'DeviceRegistration' },
);

const SeriesQuery = {
  from: Type.Optional(TimeParam),
  to: Type.Optional(TimeParam),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SERIES_LIMIT, default: DEFAULT_SERIES_LIMIT })),
  cursor: PageQuery.cursor,
};

const ReadingItem = Type.Object({ ts: IsoTime, measurement: Type.String(), value: Type.Number(), seq: Nullable(Type.Integer()) });
const EventItem = Type.Object({
  ts: IsoTime,
  type: Type.String(),
  signalClass: Type.String(),
  seq: Nullable(Type.Integer()),
  attrs: Type.Record(Type.String(), Type.Unknown()),
});

const SeriesPage = <T extends TSchema>(item: T, title: string) =>
  Type.Object(
    {
      deviceId: Type.String(),
      from: IsoTime,
      to: IsoTime,
      items: Type.Array(item, { description: 'Newest first' }),
      nextCursor: Nullable(Type.String()),
    },
    { title },
  );

export function deviceView(deps: HttpDeps, device: Device, state: DeviceState | undefined): DeviceViewT {
  const building = deps.site.building(device.buildingId);
  const latest: DeviceViewT['latest'] = {};
  for (const [name, v] of Object.entries(state?.latest ?? {})) latest[name] = { value: v.value, ts: iso(v.ts) };
  return {
    id: device.id,
    kind: device.kind,
    name: device.name,
    buildingId: device.buildingId,
    building: building === undefined ? null : { id: building.id, name: building.name },
    floor: device.floor,
    parentId: device.parentId,
    disabled: device.disabled,
    createdAt: iso(device.createdAt),
    status: state?.status ?? 'never_seen',
    lastSeen: isoOrNull(state?.lastSeen ?? null),
    statusChangedAt: isoOrNull(state?.statusChangedAt ?? null),
    latest,
  };
}

/** A device the caller may see, or 404: an out-of-scope device is indistinguishable from none. */
export function visibleDevice(deps: HttpDeps, visibility: Visibility, id: string): Device {
  const device = deps.site.device(id);
  if (device === undefined || !seesBuilding(visibility, device.buildingId)) {
    throw new HttpError('GW_NOT_FOUND', `No device '${id}'`);
  }
  return device;
}

/**
 * Series pages: rows come newest first (the last 24 h truncated by `limit` keep the latest) and
 * several rows share a timestamp (one telemetry message holds several measurements), so the
 * cursor is (last ts, rows already served at that ts); the next page re-reads up to that ts and
 * skips them. The store orders rows within one ts deterministically (by measurement, by type).
 */
interface SeriesCursor {
  ts: number;
  skip: number;
}

function readSeriesCursor(cursor: string | undefined): SeriesCursor | undefined {
  if (cursor === undefined) return undefined;
  const m = /^(\d{1,16}):(\d{1,6})$/.exec(decodeCursor(cursor));
  if (m === null) throw invalidCursor();
  return { ts: Number(m[1]), skip: Number(m[2]) };
}

function seriesWindow(deps: HttpDeps, query: { from?: string; to?: string }): { from: number; to: number } {
  const to = parseTimeParam('to', query.to) ?? deps.clock.now();
  const from = parseTimeParam('from', query.from) ?? to - DEFAULT_SERIES_WINDOW_MS;
  if (from > to) throw new HttpError('GW_VALIDATION', 'from must not be after to', [{ path: '/from', message: 'after to' }]);
  return { from, to };
}

function pageSeries<T extends { ts: number }>(
  fetch: (to: number, limit: number) => T[],
  window: { from: number; to: number },
  limit: number,
  cursor: SeriesCursor | undefined,
): { rows: T[]; nextCursor: string | null } {
  const to = cursor === undefined ? window.to : Math.min(window.to, cursor.ts);
  const skip = cursor === undefined || cursor.ts > window.to ? 0 : cursor.skip;
  // One extra row tells whether another page exists without a count query.
  const fetched = fetch(to, limit + skip + 1).slice(skip);
  const rows = fetched.slice(0, limit);
  const last = rows[rows.length - 1];
  if (fetched.length <= limit || last === undefined) return { rows, nextCursor: null };
  let sameTs = 0;
  for (const r of rows) if (r.ts === last.ts) sameTs++;
  const served = last.ts === to ? skip + sameTs : sameTs;
  return { rows, nextCursor: encodeCursor(`${last.ts}:${served}`) };
}

export const deviceRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  const kindIds = new Set(deps.kinds.map((k) => k.id));
  const topics = (deviceId: string) => ({
    telemetry: `${deps.mqtt.topicRoot}/${deviceId}/telemetry`,
    event: `${deps.mqtt.topicRoot}/${deviceId}/event`,
    status: `${deps.mqtt.topicRoot}/${deviceId}/status`,
  });

  app.post(
    '/devices',
    {
      config: { roles: DEVICE_REGISTRARS },
      schema: {
        tags: ['devices'],
        summary: 'Register a device; the answer carries its MQTT secret, shown this once',
        body: NewDeviceBody,
        response: { 201: Registration, ...apiErrors, 409: ErrorBody },
      },
    },
    async (request, reply) => {
      const { visibility } = authOf(request);
      const body = request.body;
      if (!kindIds.has(body.kind)) {
        throw new HttpError('GW_UNKNOWN_KIND', `No kind '${body.kind}'`, { known: [...kindIds].sort() });
      }
      if (deps.site.building(body.buildingId) === undefined || !seesBuilding(visibility, body.buildingId)) {
        throw new HttpError('GW_UNKNOWN_BUILDING', `No building '${body.buildingId}'`);
      }
      const parentId = body.parentId ?? null;
      if (parentId !== null) {
        const parent = deps.site.device(parentId);
        if (parent === undefined || !seesBuilding(visibility, parent.buildingId)) {
          throw new HttpError('GW_UNKNOWN_PARENT', `No device '${parentId}' to report through`);
        }
      }
      let created: Awaited<ReturnType<HttpDeps['registerDevice']>>;
      try {
        created = await deps.registerDevice({
          id: body.id,
          kind: body.kind,
          buildingId: body.buildingId,
          floor: body.floor ?? null,
          name: body.name ?? null,
          parentId,
        });
      } catch (err) {
        if (err instanceof DeviceExistsError) throw new HttpError('GW_CONFLICT', `Device '${body.id}' already exists`);
        throw err;
      }
      const { device, secret } = created;
      request.log.info({ deviceId: device.id, kind: device.kind, buildingId: device.buildingId }, 'device registered');
      return reply.code(201).send({
        device: deviceView(deps, device, deps.deviceState(device.id)),
        secret,
        mqtt: {
          username: device.id,
          clientId: device.id,
          topics: topics(device.id),
          tcpUrl: deps.mqtt.tcpUrl,
          webSocketPath: deps.mqtt.webSocketPath,
        },
      });
    },
  );

  app.get(
    '/devices',
    {
      config: { roles: DEVICE_READERS },
      schema: {
        tags: ['devices'],
        summary: 'List devices the caller may see, with live status and latest values',
        querystring: Type.Object({
          buildingId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          kind: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
          status: Type.Optional(DEVICE_STATUS),
          ...PageQuery,
        }),
        response: { 200: Page(DeviceView, 'DevicePage'), ...apiErrors },
      },
    },
    async (request) => {
      const { visibility } = authOf(request);
      const q = request.query;
      const filter: { buildingId?: string; kind?: string } = {};
      if (q.buildingId !== undefined) filter.buildingId = q.buildingId;
      if (q.kind !== undefined) filter.kind = q.kind;
      const views = deps.site
        .devices(filter)
        .filter((d) => seesBuilding(visibility, d.buildingId))
        .map((d) => deviceView(deps, d, deps.deviceState(d.id)))
        .filter((v) => q.status === undefined || v.status === q.status);
      return paginate(views, (v) => v.id, q.limit ?? DEFAULT_PAGE_LIMIT, q.cursor);
    },
  );

  app.get(
    '/devices/:id',
    {
      config: { roles: DEVICE_READERS },
      schema: {
        tags: ['devices'],
        summary: 'One device with its live status and latest values',
        params: IdParams,
        response: { 200: DeviceView, ...apiErrors },
      },
    },
    async (request) => {
      const device = visibleDevice(deps, authOf(request).visibility, request.params.id);
      return deviceView(deps, device, deps.deviceState(device.id));
    },
  );

  app.get(
    '/devices/:id/readings',
    {
      config: { roles: DEVICE_READERS },
      schema: {
        tags: ['devices'],
        summary: "A device's readings (default: the last 24 h, newest first)",
        params: IdParams,
        querystring: Type.Object({ ...SeriesQuery, measurement: Type.Optional(Type.String({ minLength: 1, maxLength: 48 })) }),
        response: { 200: SeriesPage(ReadingItem, 'ReadingPage'), ...apiErrors },
      },
    },
    async (request) => {
      const device = visibleDevice(deps, authOf(request).visibility, request.params.id);
      const q = request.query;
      const window = seriesWindow(deps, q);
      const { rows, nextCursor } = pageSeries(
        (to, limit) =>
          deps.timeSeries.readings({
            deviceId: device.id,
            from: window.from,
            to,
            limit,
            ...(q.measurement === undefined ? {} : { measurement: q.measurement }),
          }),
        window,
        q.limit ?? DEFAULT_SERIES_LIMIT,
        readSeriesCursor(q.cursor),
      );
      return {
        deviceId: device.id,
        from: iso(window.from),
        to: iso(window.to),
        items: rows.map((r) => ({ ts: iso(r.ts), measurement: r.measurement, value: r.value, seq: r.seq })),
        nextCursor,
      };
    },
  );

  app.get(
    '/devices/:id/events',
    {
      config: { roles: DEVICE_READERS },
      schema: {
        tags: ['devices'],
        summary: "A device's events (default: the last 24 h, newest first)",
        params: IdParams,
        querystring: Type.Object(SeriesQuery),
        response: { 200: SeriesPage(EventItem, 'EventPage'), ...apiErrors },
      },
    },
    async (request) => {
      const device = visibleDevice(deps, authOf(request).visibility, request.params.id);
      const q = request.query;
      const window = seriesWindow(deps, q);
      const { rows, nextCursor } = pageSeries(
        (to, limit) => deps.timeSeries.events({ deviceId: device.id, from: window.from, to, limit }),
        window,
        q.limit ?? DEFAULT_SERIES_LIMIT,
        readSeriesCursor(q.cursor),
      );
      return {
        deviceId: device.id,
        from: iso(window.from),
        to: iso(window.to),
        items: rows.map((e) => ({ ts: iso(e.ts), type: e.type, signalClass: e.signalClass, seq: e.seq, attrs: e.attrs })),
        nextCursor,
      };
    },
  );
};
