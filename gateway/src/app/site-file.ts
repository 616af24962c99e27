/**
 * The declarative site file: the hierarchy (street → community → grid → building → devices) and
 * the people, in YAML or JSON, nested the way a street office draws it. Applied at start with
 * upserts, so re-applying the same file changes nothing and editing it moves devices.
 *
 * Device secrets in the file are for provisioning labs and demos; production sites register
 * devices through the API (the secret is then shown once and never stored in clear).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import YAML from 'yaml';
import { CHANNEL_TYPES, DEVICE_ID_PATTERN, PERSON_ROLES, type Person } from '../domain/site.js';
import type { KindDefinition } from '../domain/kind.js';
import type { SiteStore } from '../ports.js';
import { CHINA_UTC_OFFSET_MINUTES, validateOccupancy, type OccupancySchedule } from '../domain/rules/occupancy.js';
import { validateOverrides } from '../domain/rules/settings.js';
import type { RuleOverrides } from '../domain/rules/types.js';

/** The demo site shipped with the gateway (`npm run demo`). */
export const DEMO_SITE_FILE = fileURLToPath(new URL('../../demo/site.yaml', import.meta.url));

const Id = Type.String({ pattern: DEVICE_ID_PATTERN.source });
const Name = Type.String({ minLength: 1, maxLength: 200 });

/** Per-rule overrides: `{ "door.held_open": { params: { heldOpenS: 60 } }, "co.exposure": { enabled: false } }`. */
const RuleOverridesEntry = Type.Record(
  Type.String({ pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$' }),
  Type.Object({ enabled: Type.Optional(Type.Boolean()), params: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }, { additionalProperties: false }),
);

const Clock = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$|^24:00$' });

/** Occupied hours of a building, local time: doors held open inside them are supervisory, outside an alarm. */
const OccupancyEntry = Type.Object(
  {
    utcOffsetMinutes: Type.Optional(Type.Integer({ minimum: -720, maximum: 840 })),
    weekly: Type.Array(
      Type.Object(
        { days: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { minItems: 1, description: 'ISO weekdays, 1 = Monday' }), from: Clock, to: Clock },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const DeviceEntry = Type.Object(
  {
    id: Id,
    kind: Type.String({ minLength: 1 }),
    floor: Type.Optional(Type.Integer({ minimum: -10, maximum: 300 })),
    name: Type.Optional(Name),
    parentId: Type.Optional(Id),
    secret: Type.Optional(Type.String({ minLength: 16, maxLength: 200 })),
    secretHash: Type.Optional(Type.String({ pattern: '^scrypt\\$' })),
    rules: Type.Optional(RuleOverridesEntry),
  },
  { additionalProperties: false },
);

const BuildingEntry = Type.Object(
  {
    id: Id,
    name: Name,
    address: Type.Optional(Type.String({ maxLength: 500 })),
    floors: Type.Optional(Type.Integer({ minimum: 1, maximum: 300 })),
    occupancy: Type.Optional(OccupancyEntry),
    rules: Type.Optional(RuleOverridesEntry),
    devices: Type.Optional(Type.Array(DeviceEntry)),
  },
  { additionalProperties: false },
);

const GridEntry = Type.Object(
  { id: Id, code: Type.String({ pattern: '^\\d{14}$' }), name: Name, buildings: Type.Optional(Type.Array(BuildingEntry)) },
  { additionalProperties: false },
);

const CommunityEntry = Type.Object(
  { id: Id, code: Type.String({ pattern: '^\\d{12}$' }), name: Name, grids: Type.Optional(Type.Array(GridEntry)) },
  { additionalProperties: false },
);

const StreetEntry = Type.Object(
  { id: Id, code: Type.String({ pattern: '^\\d{9}$' }), name: Name, communities: Type.Optional(Type.Array(CommunityEntry)) },
  { additionalProperties: false },
);

const PersonEntry = Type.Object(
  {
    id: Id,
    name: Name,
    role: Type.Union(PERSON_ROLES.map((r) => Type.Literal(r))),
    scope: Type.Array(Id, { minItems: 1 }),
    channels: Type.Optional(
      Type.Array(
        Type.Object(
          { type: Type.Union(CHANNEL_TYPES.map((t) => Type.Literal(t))), target: Type.String({ minLength: 1, maxLength: 500 }) },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);

export const SiteFileSchema = Type.Object(
  { streets: Type.Array(StreetEntry), people: Type.Optional(Type.Array(PersonEntry)) },
  { additionalProperties: false },
);
export type SiteFile = Static<typeof SiteFileSchema>;

const checkSite = TypeCompiler.Compile(SiteFileSchema);

export class SiteFileError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`site file ${source}: ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`);
    this.name = 'SiteFileError';
  }
}

export async function readSiteFile(file: string): Promise<SiteFile> {
  const text = await readFile(file, 'utf8');
  return parseSiteText(text, file);
}

/** Parses YAML (a superset of JSON) and validates everything, listing every problem found. */
export function parseSiteText(text: string, source: string): SiteFile {
  let data: unknown;
  try {
    data = YAML.parse(text);
  } catch (err) {
    throw new SiteFileError(source, [(err as Error).message]);
  }
  if (!checkSite.Check(data)) {
    const problems = [...checkSite.Errors(data)].slice(0, 50).map((e) => `${e.path || '/'}: ${e.message}`);
    throw new SiteFileError(source, problems);
  }
  return data;
}

/** Cross-checks that a schema cannot express: unique ids, code prefixes, known kinds, parents. */
export function checkSiteConsistency(site: SiteFile, kinds: (id: string) => KindDefinition | undefined): string[] {
  const problems: string[] = [];
  const ids = new Map<string, string>();
  const unique = (kind: string, id: string): void => {
    const key = `${kind}:${id}`;
    if (ids.has(key)) problems.push(`${kind} id '${id}' appears twice`);
    ids.set(key, id);
  };
  const deviceIds = new Set<string>();
  const parents: Array<[string, string]> = [];
  for (const street of site.streets) {
    unique('street', street.id);
    for (const community of street.communities ?? []) {
      unique('community', community.id);
      if (!community.code.startsWith(street.code)) problems.push(`community '${community.id}' code ${community.code} does not start with its street's code ${street.code}`);
      for (const grid of community.grids ?? []) {
        unique('grid', grid.id);
        if (!grid.code.startsWith(community.code)) problems.push(`grid '${grid.id}' code ${grid.code} does not start with its community's code ${community.code}`);
        for (const building of grid.buildings ?? []) {
          unique('building', building.id);
          if (building.rules) for (const p of validateOverrides(undefined, building.rules)) problems.push(`building '${building.id}' rules: ${p}`);
          if (building.occupancy) for (const p of validateOccupancy(toSchedule(building.occupancy))) problems.push(`building '${building.id}' occupancy: ${p}`);
          for (const device of building.devices ?? []) {
            unique('device', device.id);
            deviceIds.add(device.id);
            const kind = kinds(device.kind);
            if (kind === undefined) problems.push(`device '${device.id}' has unknown kind '${device.kind}'`);
            else if (device.rules) for (const p of validateOverrides(kind, device.rules)) problems.push(`device '${device.id}' rules: ${p}`);
            if (device.secret !== undefined && device.secretHash !== undefined) problems.push(`device '${device.id}' has both secret and secretHash`);
            if (device.floor !== undefined && building.floors !== undefined && device.floor > building.floors) {
              problems.push(`device '${device.id}' is on floor ${device.floor} of a ${building.floors}-floor building`);
            }
            if (device.parentId !== undefined) parents.push([device.id, device.parentId]);
          }
        }
      }
    }
  }
  for (const [child, parent] of parents) {
    if (!deviceIds.has(parent)) problems.push(`device '${child}' names parent '${parent}', which is not in the site file`);
  }
  for (const person of site.people ?? []) unique('person', person.id);
  return problems;
}

export interface ApplySiteResult {
  readonly streets: number;
  readonly communities: number;
  readonly grids: number;
  readonly buildings: number;
  readonly devices: number;
  readonly people: number;
}

/**
 * Writes the site into the store. `hash` turns a clear secret into its stored form; devices
 * without a secret keep the one they have (or get none, and cannot connect until issued one).
 */
export async function applySite(
  site: SiteFile,
  store: SiteStore,
  hash: (secret: string) => Promise<string>,
  now: number,
): Promise<ApplySiteResult> {
  const counts = { streets: 0, communities: 0, grids: 0, buildings: 0, devices: 0, people: 0 };
  for (const street of site.streets) {
    store.upsertStreet({ id: street.id, code: street.code, name: street.name });
    counts.streets++;
    for (const community of street.communities ?? []) {
      store.upsertCommunity({ id: community.id, streetId: street.id, code: community.code, name: community.name });
      counts.communities++;
      for (const grid of community.grids ?? []) {
        store.upsertGrid({ id: grid.id, communityId: community.id, code: grid.code, name: grid.name });
        counts.grids++;
        for (const building of grid.buildings ?? []) {
          store.upsertBuilding({ id: building.id, gridId: grid.id, name: building.name, address: building.address ?? null, floors: building.floors ?? null });
          counts.buildings++;
          // Parents first, so a child's parent exists when the store checks it.
          const devices = [...(building.devices ?? [])].sort((a, b) => Number(a.parentId !== undefined) - Number(b.parentId !== undefined));
          for (const device of devices) {
            const secretHash = device.secretHash ?? (device.secret !== undefined ? await hash(device.secret) : null);
            store.upsertDevice(
              { id: device.id, kind: device.kind, buildingId: building.id, floor: device.floor ?? null, name: device.name ?? null, parentId: device.parentId ?? null },
              secretHash,
              now,
            );
            counts.devices++;
          }
        }
      }
    }
  }
  for (const p of site.people ?? []) {
    const person: Person = { id: p.id, name: p.name, role: p.role, scope: p.scope, channels: p.channels ?? [] };
    store.upsertPerson(person);
    counts.people++;
  }
  return counts;
}

export interface SiteAlerting {
  readonly occupancy: Map<string, OccupancySchedule>;
  readonly ruleOverrides: Array<{ level: 'building' | 'device'; id: string; overrides: RuleOverrides }>;
}

/** The alerting part of a site: occupied hours per building and rule overrides per building and device. */
export function siteAlerting(site: SiteFile): SiteAlerting {
  const occupancy = new Map<string, OccupancySchedule>();
  const ruleOverrides: SiteAlerting['ruleOverrides'] = [];
  for (const street of site.streets)
    for (const community of street.communities ?? [])
      for (const grid of community.grids ?? [])
        for (const building of grid.buildings ?? []) {
          if (building.occupancy) occupancy.set(building.id, toSchedule(building.occupancy));
          if (building.rules) ruleOverrides.push({ level: 'building', id: building.id, overrides: building.rules as RuleOverrides });
          for (const device of building.devices ?? []) {
            if (device.rules) ruleOverrides.push({ level: 'device', id: device.id, overrides: device.rules as RuleOverrides });
          }
        }
  return { occupancy, ruleOverrides };
}

/** Site files name ISO weekdays (1 = Monday … 7 = Sunday); the schedule is indexed Sunday first. */
function toSchedule(entry: Static<typeof OccupancyEntry>): OccupancySchedule {
  const weekly: Array<Array<{ from: string; to: string }>> = Array.from({ length: 7 }, () => []);
  for (const span of entry.weekly) for (const day of span.days) weekly[day % 7]!.push({ from: span.from, to: span.to });
  return { utcOffsetMinutes: entry.utcOffsetMinutes ?? CHINA_UTC_OFFSET_MINUTES, weekly };
}
