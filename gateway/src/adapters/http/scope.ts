/**
 * What part of the hierarchy a token may see. A token's scope lists hierarchy ids (building ids
 * for a building captain 栋长, a grid, community or street id for safety staff); each id opens
 * itself, everything below it and the path above it, so a community's staff see their street's
 * name but not the street's other communities.
 */
import type { ApiToken, SiteStore } from '../../ports.js';

export interface Visibility {
  /** True when the token sees every building (admin, or an unscoped staff/integrator token). */
  readonly all: boolean;
  /** Buildings the token may see (meaningful when `all` is false). */
  readonly buildings: ReadonlySet<string>;
  /** Streets, communities, grids and buildings the token may see (meaningful when `all` is false). */
  readonly ids: ReadonlySet<string>;
}

const EVERYTHING: Visibility = { all: true, buildings: new Set(), ids: new Set() };
const NOTHING: Visibility = { all: false, buildings: new Set(), ids: new Set() };

export function resolveVisibility(token: ApiToken, site: SiteStore): Visibility {
  if (token.role === 'admin') return EVERYTHING;
  if (token.scope.length === 0) {
    // An unscoped captain would otherwise see every building: fail closed (captains answer for
    // named buildings only); the token route refuses to create one.
    return token.role === 'captain' ? NOTHING : EVERYTHING;
  }
  const tree = hierarchyIndex(site);
  const scope = new Set(token.scope);
  const ids = new Set<string>();
  const buildings = new Set<string>();
  // An entity is in scope when it or one of its ancestors is named; it then opens its own path up.
  const entities = [...site.streets(), ...site.communities(), ...site.grids(), ...site.buildings()];
  for (const { id } of entities) {
    const path = tree.pathOf(id);
    if (!path.some((p) => scope.has(p))) continue;
    for (const p of path) ids.add(p);
  }
  for (const b of site.buildings()) if (ids.has(b.id)) buildings.add(b.id);
  return { all: false, buildings, ids };
}

export function seesBuilding(v: Visibility, buildingId: string): boolean {
  return v.all || v.buildings.has(buildingId);
}

export function seesEntity(v: Visibility, id: string): boolean {
  return v.all || v.ids.has(id);
}

export interface HierarchyIndex {
  has(id: string): boolean;
  /** The id itself followed by its ancestors up to the street (empty for an unknown id). */
  pathOf(id: string): string[];
}

export function hierarchyIndex(site: SiteStore): HierarchyIndex {
  const parent = new Map<string, string | null>();
  for (const s of site.streets()) parent.set(s.id, null);
  for (const c of site.communities()) parent.set(c.id, c.streetId);
  for (const g of site.grids()) parent.set(g.id, g.communityId);
  for (const b of site.buildings()) parent.set(b.id, b.gridId);
  return {
    has: (id) => parent.has(id),
    pathOf(id) {
      const path: string[] = [];
      let at: string | null | undefined = id;
      // Bounded walk: a malformed registry with a cycle must not hang a request.
      while (at != null && parent.has(at) && path.length < 8) {
        path.push(at);
        at = parent.get(at);
      }
      return path;
    },
  };
}
