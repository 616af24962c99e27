/**
 * The grid-management hierarchy (街道 street → 社区 community → 网格 grid → building) and the
 * people who answer for it. Every list is cut to the caller's scope; a building outside it
 * answers 404 as if it did not exist.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { CHANNEL_TYPES, PERSON_ROLES } from '../../../domain/site.js';
import type { ApiRole } from '../../../ports.js';
import { authOf, type RouteOptions } from '../context.js';
import { HttpError } from '../errors.js';
import { seesBuilding, seesEntity } from '../scope.js';
import { DEFAULT_PAGE_LIMIT, IdParams, Nullable, Page, PageQuery, apiErrors, paginate } from '../schemas.js';

const HIERARCHY_READERS: readonly ApiRole[] = ['admin', 'staff', 'captain'];
/**
 * Integrators register devices into buildings, so they may list buildings (a registration with
 * an unknown building id would tell them as much anyway), but not the rest of the hierarchy.
 */
const BUILDING_READERS: readonly ApiRole[] = ['admin', 'staff', 'captain', 'integrator'];
/** People carry phone numbers and addresses (PIPL): safety staff and admins only. */
const PEOPLE_READERS: readonly ApiRole[] = ['admin', 'staff'];

const StreetView = Type.Object({ id: Type.String(), code: Type.String(), name: Type.String() }, { title: 'Street' });
const CommunityView = Type.Object(
  { id: Type.String(), streetId: Type.String(), code: Type.String(), name: Type.String() },
  { title: 'Community' },
);
const GridView = Type.Object(
  { id: Type.String(), communityId: Type.String(), code: Type.String(), name: Type.String() },
  { title: 'Grid' },
);
const BuildingView = Type.Object(
  {
    id: Type.String(),
    gridId: Type.String(),
    name: Type.String(),
    address: Nullable(Type.String()),
    floors: Nullable(Type.Integer()),
  },
  { title: 'Building' },
);
const BuildingDetail = Type.Object(
  {
    ...BuildingView.properties,
    deviceCount: Type.Integer({ minimum: 0 }),
    grid: Nullable(GridView),
    community: Nullable(CommunityView),
    street: Nullable(StreetView),
  },
  { title: 'BuildingDetail' },
);
const PersonView = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    role: Type.Union(PERSON_ROLES.map((r) => Type.Literal(r))),
    scope: Type.Array(Type.String()),
    channels: Type.Array(
      Type.Object({ type: Type.Union(CHANNEL_TYPES.map((c) => Type.Literal(c))), target: Type.String() }),
    ),
  },
  { title: 'Person' },
);

const TreeBuilding = Type.Object({ ...BuildingView.properties, deviceCount: Type.Integer({ minimum: 0 }) });
const TreeGrid = Type.Object({ ...GridView.properties, buildings: Type.Array(TreeBuilding) });
const TreeCommunity = Type.Object({ ...CommunityView.properties, grids: Type.Array(TreeGrid) });
const TreeStreet = Type.Object({ ...StreetView.properties, communities: Type.Array(TreeCommunity) });
const HierarchyTree = Type.Object({ streets: Type.Array(TreeStreet) }, { title: 'Hierarchy' });
type HierarchyTreeT = Static<typeof HierarchyTree>;

export const hierarchyRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  const { site } = deps;
  const byId = (item: { id: string }) => item.id;
  const limitOf = (q: { limit?: number }) => q.limit ?? DEFAULT_PAGE_LIMIT;
  const Filter = (name: string) => Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: `Only children of this ${name}` }));

  app.get(
    '/streets',
    {
      config: { roles: HIERARCHY_READERS },
      schema: {
        tags: ['hierarchy'],
        summary: 'Streets (街道)',
        querystring: Type.Object(PageQuery),
        response: { 200: Page(StreetView, 'StreetPage'), ...apiErrors },
      },
    },
    async (request) => {
      const v = authOf(request).visibility;
      const items = site.streets().filter((s) => seesEntity(v, s.id));
      return paginate(items, byId, limitOf(request.query), request.query.cursor);
    },
  );

  app.get(
    '/communities',
    {
      config: { roles: HIERARCHY_READERS },
      schema: {
        tags: ['hierarchy'],
        summary: 'Communities (社区)',
        querystring: Type.Object({ streetId: Filter('street'), ...PageQuery }),
        response: { 200: Page(CommunityView, 'CommunityPage'), ...apiErrors },
      },
    },
    async (request) => {
      const v = authOf(request).visibility;
      const { streetId } = request.query;
      const items = site
        .communities()
        .filter((c) => seesEntity(v, c.id) && (streetId === undefined || c.streetId === streetId));
      return paginate(items, byId, limitOf(request.query), request.query.cursor);
    },
  );

  app.get(
    '/grids',
    {
      config: { roles: HIERARCHY_READERS },
      schema: {
        tags: ['hierarchy'],
        summary: 'Grids (网格)',
        querystring: Type.Object({ communityId: Filter('community'), ...PageQuery }),
        response: { 200: Page(GridView, 'GridPage'), ...apiErrors },
      },
    },
    async (request) => {
      const v = authOf(request).visibility;
      const { communityId } = request.query;
      const items = site
        .grids()
        .filter((g) => seesEntity(v, g.id) && (communityId === undefined || g.communityId === communityId));
      return paginate(items, byId, limitOf(request.query), request.query.cursor);
    },
  );

  app.get(
    '/buildings',
    {
      config: { roles: BUILDING_READERS },
      schema: {
        tags: ['hierarchy'],
        summary: 'Buildings',
        querystring: Type.Object({ gridId: Filter('grid'), ...PageQuery }),
        response: { 200: Page(BuildingView, 'BuildingPage'), ...apiErrors },
      },
    },
    async (request) => {
      const v = authOf(request).visibility;
      const { gridId } = request.query;
      const items = site.buildings().filter((b) => seesBuilding(v, b.id) && (gridId === undefined || b.gridId === gridId));
      return paginate(items, byId, limitOf(request.query), request.query.cursor);
    },
  );

  app.get(
    '/buildings/:id',
    {
      config: { roles: BUILDING_READERS },
      schema: {
        tags: ['hierarchy'],
        summary: 'One building with its place in the hierarchy and its device count',
        params: IdParams,
        response: { 200: BuildingDetail, ...apiErrors },
      },
    },
    async (request) => {
      const v = authOf(request).visibility;
      const building = site.building(request.params.id);
      if (building === undefined || !seesBuilding(v, building.id)) {
        throw new HttpError('GW_NOT_FOUND', `No building '${request.params.id}'`);
      }
      const grid = site.grids().find((g) => g.id === building.gridId) ?? null;
      const community = grid === null ? null : (site.communities().find((c) => c.id === grid.communityId) ?? null);
      const street = community === null ? null : (site.streets().find((s) => s.id === community.streetId) ?? null);
      return { ...building, deviceCount: site.devices({ buildingId: building.id }).length, grid, community, street };
    },
  );

  app.get(
    '/hierarchy',
    {
      config: { roles: HIERARCHY_READERS },
      schema: {
        tags: ['hierarchy'],
        summary: 'The whole visible hierarchy as one tree, with device counts per building',
        response: { 200: HierarchyTree, ...apiErrors },
      },
    },
    async (request): Promise<HierarchyTreeT> => {
      const v = authOf(request).visibility;
      const deviceCount = new Map<string, number>();
      for (const d of site.devices()) deviceCount.set(d.buildingId, (deviceCount.get(d.buildingId) ?? 0) + 1);
      const sortById = <T extends { id: string }>(xs: T[]) => xs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const buildings = sortById(site.buildings().filter((b) => seesBuilding(v, b.id)));
      const grids = sortById(site.grids().filter((g) => seesEntity(v, g.id)));
      const communities = sortById(site.communities().filter((c) => seesEntity(v, c.id)));
      return {
        streets: sortById(site.streets().filter((s) => seesEntity(v, s.id))).map((s) => ({
          ...s,
          communities: communities
            .filter((c) => c.streetId === s.id)
            .map((c) => ({
              ...c,
              grids: grids
                .filter((g) => g.communityId === c.id)
                .map((g) => ({
                  ...g,
                  buildings: buildings
                    .filter((b) => b.gridId === g.id)
                    .map((b) => ({ ...b, deviceCount: deviceCount.get(b.id) ?? 0 })),
                })),
            })),
        })),
      };
    },
  );

  app.get(
    '/people',
    {
      config: { roles: PEOPLE_READERS },
      schema: {
        tags: ['hierarchy'],
        summary: 'People who answer for parts of the hierarchy (captains, grid workers, staff)',
        querystring: Type.Object({ role: Type.Optional(Type.Union(PERSON_ROLES.map((r) => Type.Literal(r)))), ...PageQuery }),
        response: { 200: Page(PersonView, 'PersonPage'), ...apiErrors },
      },
    },
    async (request) => {
      const v = authOf(request).visibility;
      const { role } = request.query;
      const items = site
        .people()
        .filter((p) => (role === undefined || p.role === role) && (v.all || p.scope.some((id) => seesEntity(v, id))))
        .map((p) => ({ ...p, scope: [...p.scope], channels: p.channels.map((c) => ({ ...c })) }));
      return paginate(items, byId, limitOf(request.query), request.query.cursor);
    },
  );
};
