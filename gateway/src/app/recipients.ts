/**
 * Who is told: the domain says which audience (captain, grid worker, community, street); this
 * resolves people from the hierarchy. When a level has nobody, the notice goes one level up, so
 * an alarm in a building without a registered captain still reaches a human.
 */
import type { Audience } from '../domain/alerts/types.js';
import type { Person, PersonRole } from '../domain/site.js';
import type { SiteStore } from '../ports.js';

const LEVELS: ReadonlyArray<{ audience: Audience; role: PersonRole }> = [
  { audience: 'captain', role: 'captain' },
  { audience: 'grid_worker', role: 'grid_worker' },
  { audience: 'community', role: 'community_staff' },
  { audience: 'street', role: 'street_dispatcher' },
];

export interface BuildingPlace {
  readonly buildingId: string;
  readonly buildingName: string;
  readonly gridId: string | null;
  readonly communityId: string | null;
  readonly streetId: string | null;
}

export function placeOf(site: SiteStore, buildingId: string): BuildingPlace {
  const building = site.building(buildingId);
  const grid = building ? site.grids().find((g) => g.id === building.gridId) : undefined;
  const community = grid ? site.communities().find((c) => c.id === grid.communityId) : undefined;
  return {
    buildingId,
    buildingName: building?.name ?? buildingId,
    gridId: grid?.id ?? null,
    communityId: community?.id ?? null,
    streetId: community?.streetId ?? null,
  };
}

/** The people of `audience` for this building, or of the nearest level above that has anyone. */
export function recipientsFor(people: readonly Person[], place: BuildingPlace, audience: Audience): { audience: Audience; people: Person[] } {
  const start = LEVELS.findIndex((l) => l.audience === audience);
  for (let i = Math.max(0, start); i < LEVELS.length; i++) {
    const level = LEVELS[i]!;
    const scopeId = [place.buildingId, place.gridId, place.communityId, place.streetId][i];
    if (scopeId === null || scopeId === undefined) continue;
    const found = people.filter((p) => p.role === level.role && p.scope.includes(scopeId) && p.channels.length > 0);
    if (found.length > 0) return { audience: level.audience, people: found };
  }
  return { audience, people: [] };
}
