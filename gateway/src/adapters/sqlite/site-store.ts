/**
 * The registry in the embedded store: hierarchy (street → community → grid → building), people,
 * devices with their secret hashes, device states and API tokens.
 *
 * `device(id)` runs for every MQTT message, so devices (and buildings) are held in memory and
 * the maps are updated only after the SQLite write committed: the cache never shows a device the
 * file does not have.
 */
import { DeviceExistsError, type ApiRole, type ApiToken, type DeviceState, type NewDevice, type SiteStore, type TokenStore } from '../../ports.js';
import type { Building, Community, Device, Grid, NotificationChannel, Person, PersonRole, Street } from '../../domain/site.js';
import type { Database } from './database.js';

/** A write named an entity that does not exist (a device's building, a grid's community…). */
export class ReferenceNotFoundError extends Error {
  constructor(
    readonly entity: 'street' | 'community' | 'grid' | 'building' | 'device' | 'token',
    readonly id: string,
    context = '',
  ) {
    super(`${entity} '${id}' does not exist${context ? ` (${context})` : ''}`);
    this.name = 'ReferenceNotFoundError';
  }
}

interface DeviceRow {
  id: string;
  kind: string;
  building_id: string;
  floor: number | null;
  name: string | null;
  parent_id: string | null;
  disabled: number;
  created_at: number;
}

interface BuildingRow {
  id: string;
  grid_id: string;
  name: string;
  address: string | null;
  floors: number | null;
}

interface TokenRow {
  id: string;
  name: string;
  role: ApiRole;
  scope: string;
  created_at: number;
  expires_at: number | null;
  revoked: number;
}

interface StateRow {
  device_id: string;
  last_seen: number | null;
  status: DeviceState['status'];
  status_changed_at: number | null;
  latest: string;
}

function toDevice(r: DeviceRow): Device {
  return Object.freeze({
    id: r.id,
    kind: r.kind,
    buildingId: r.building_id,
    floor: r.floor,
    name: r.name,
    parentId: r.parent_id,
    disabled: r.disabled === 1,
    createdAt: r.created_at,
  });
}

function toBuilding(r: BuildingRow): Building {
  return Object.freeze({ id: r.id, gridId: r.grid_id, name: r.name, address: r.address, floors: r.floors });
}

function toToken(r: TokenRow): ApiToken {
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    scope: JSON.parse(r.scope) as string[],
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revoked: r.revoked === 1,
  };
}

const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class SqliteSiteStore implements SiteStore, TokenStore {
  private readonly deviceCache = new Map<string, Device>();
  private readonly buildingCache = new Map<string, Building>();
  private readonly stmt;

  constructor(private readonly db: Database) {
    this.stmt = {
      upsertStreet: db.prepare(
        `INSERT INTO streets (id, code, name) VALUES (@id, @code, @name)
         ON CONFLICT(id) DO UPDATE SET code = excluded.code, name = excluded.name`,
      ),
      upsertCommunity: db.prepare(
        `INSERT INTO communities (id, street_id, code, name) VALUES (@id, @streetId, @code, @name)
         ON CONFLICT(id) DO UPDATE SET street_id = excluded.street_id, code = excluded.code, name = excluded.name`,
      ),
      upsertGrid: db.prepare(
        `INSERT INTO grids (id, community_id, code, name) VALUES (@id, @communityId, @code, @name)
         ON CONFLICT(id) DO UPDATE SET community_id = excluded.community_id, code = excluded.code, name = excluded.name`,
      ),
      upsertBuilding: db.prepare(
        `INSERT INTO buildings (id, grid_id, name, address, floors) VALUES (@id, @gridId, @name, @address, @floors)
         ON CONFLICT(id) DO UPDATE SET grid_id = excluded.grid_id, name = excluded.name,
           address = excluded.address, floors = excluded.floors`,
      ),
      upsertPerson: db.prepare(
        `INSERT INTO people (id, name, role, scope, channels) VALUES (@id, @name, @role, @scope, @channels)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, role = excluded.role, scope = excluded.scope,
           channels = excluded.channels`,
      ),
      streetExists: db.prepare('SELECT 1 FROM streets WHERE id = ?').pluck(),
      communityExists: db.prepare('SELECT 1 FROM communities WHERE id = ?').pluck(),
      gridExists: db.prepare('SELECT 1 FROM grids WHERE id = ?').pluck(),
      streets: db.prepare('SELECT id, code, name FROM streets ORDER BY id'),
      communities: db.prepare('SELECT id, street_id AS streetId, code, name FROM communities ORDER BY id'),
      grids: db.prepare('SELECT id, community_id AS communityId, code, name FROM grids ORDER BY id'),
      buildings: db.prepare('SELECT id, grid_id, name, address, floors FROM buildings ORDER BY id'),
      people: db.prepare('SELECT id, name, role, scope, channels FROM people ORDER BY id'),
      insertDevice: db.prepare(
        `INSERT INTO devices (id, kind, building_id, floor, name, parent_id, disabled, created_at, secret_hash)
         VALUES (@id, @kind, @buildingId, @floor, @name, @parentId, 0, @createdAt, @secretHash)`,
      ),
      updateDevicePlacement: db.prepare(
        `UPDATE devices SET kind = @kind, building_id = @buildingId, floor = @floor, name = @name,
           parent_id = @parentId, secret_hash = COALESCE(@secretHash, secret_hash) WHERE id = @id`,
      ),
      devices: db.prepare(
        'SELECT id, kind, building_id, floor, name, parent_id, disabled, created_at FROM devices',
      ),
      deviceSecretHash: db.prepare('SELECT secret_hash FROM devices WHERE id = ?').pluck(),
      setDisabled: db.prepare('UPDATE devices SET disabled = ? WHERE id = ?'),
      saveState: db.prepare(
        `INSERT INTO device_states (device_id, last_seen, status, status_changed_at, latest)
         VALUES (@deviceId, @lastSeen, @status, @statusChangedAt, @latest)
         ON CONFLICT(device_id) DO UPDATE SET last_seen = excluded.last_seen, status = excluded.status,
           status_changed_at = excluded.status_changed_at, latest = excluded.latest`,
      ),
      states: db.prepare('SELECT device_id, last_seen, status, status_changed_at, latest FROM device_states ORDER BY device_id'),
      insertToken: db.prepare(
        `INSERT INTO api_tokens (id, name, role, scope, created_at, expires_at, revoked, token_hash)
         VALUES (@id, @name, @role, @scope, @createdAt, @expiresAt, @revoked, @tokenHash)`,
      ),
      tokenByHash: db.prepare(
        'SELECT id, name, role, scope, created_at, expires_at, revoked FROM api_tokens WHERE token_hash = ?',
      ),
      tokens: db.prepare('SELECT id, name, role, scope, created_at, expires_at, revoked FROM api_tokens ORDER BY created_at, id'),
      revokeToken: db.prepare('UPDATE api_tokens SET revoked = 1 WHERE id = ?'),
    };
    for (const r of this.stmt.buildings.all() as BuildingRow[]) this.buildingCache.set(r.id, toBuilding(r));
    for (const r of this.stmt.devices.all() as DeviceRow[]) this.deviceCache.set(r.id, toDevice(r));
  }

  // --- hierarchy -------------------------------------------------------------------------------

  upsertStreet(s: Street): void {
    this.stmt.upsertStreet.run({ id: s.id, code: s.code, name: s.name });
  }

  upsertCommunity(c: Community): void {
    this.requireRow(this.stmt.streetExists, 'street', c.streetId, `community '${c.id}'`);
    this.stmt.upsertCommunity.run({ id: c.id, streetId: c.streetId, code: c.code, name: c.name });
  }

  upsertGrid(g: Grid): void {
    this.requireRow(this.stmt.communityExists, 'community', g.communityId, `grid '${g.id}'`);
    this.stmt.upsertGrid.run({ id: g.id, communityId: g.communityId, code: g.code, name: g.name });
  }

  upsertBuilding(b: Building): void {
    this.requireRow(this.stmt.gridExists, 'grid', b.gridId, `building '${b.id}'`);
    const building = toBuilding({ id: b.id, grid_id: b.gridId, name: b.name, address: b.address, floors: b.floors });
    this.stmt.upsertBuilding.run({ id: b.id, gridId: b.gridId, name: b.name, address: b.address, floors: b.floors });
    this.buildingCache.set(b.id, building);
  }

  upsertPerson(p: Person): void {
    this.stmt.upsertPerson.run({
      id: p.id,
      name: p.name,
      role: p.role,
      scope: JSON.stringify(p.scope),
      channels: JSON.stringify(p.channels),
    });
  }

  streets(): Street[] {
    return this.stmt.streets.all() as Street[];
  }

  communities(): Community[] {
    return this.stmt.communities.all() as Community[];
  }

  grids(): Grid[] {
    return this.stmt.grids.all() as Grid[];
  }

  buildings(): Building[] {
    return [...this.buildingCache.values()].sort(byId);
  }

  building(id: string): Building | undefined {
    return this.buildingCache.get(id);
  }

  people(): Person[] {
    const rows = this.stmt.people.all() as { id: string; name: string; role: PersonRole; scope: string; channels: string }[];
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      role: r.role,
      scope: JSON.parse(r.scope) as string[],
      channels: JSON.parse(r.channels) as NotificationChannel[],
    }));
  }

  // --- devices ---------------------------------------------------------------------------------

  createDevice(device: NewDevice, secretHash: string, now: number): Device {
    if (this.deviceCache.has(device.id)) throw new DeviceExistsError(device.id);
    this.requireBuilding(device);
    const created = newDevice(device, now);
    try {
      this.stmt.insertDevice.run({ ...this.deviceParams(device), createdAt: now, secretHash });
    } catch (err) {
      // Another connection to the same file may have taken the id since the cache was loaded.
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new DeviceExistsError(device.id);
      throw err;
    }
    this.deviceCache.set(created.id, created);
    return created;
  }

  upsertDevice(device: NewDevice, secretHash: string | null, now: number): Device {
    const existing = this.deviceCache.get(device.id);
    if (!existing) {
      this.requireBuilding(device);
      const created = newDevice(device, now);
      this.stmt.insertDevice.run({ ...this.deviceParams(device), createdAt: now, secretHash });
      this.deviceCache.set(created.id, created);
      return created;
    }
    this.requireBuilding(device);
    // Placement changes; creation time and the disabled flag are the registry's, not the file's.
    const updated = Object.freeze({
      ...existing,
      kind: device.kind,
      buildingId: device.buildingId,
      floor: device.floor,
      name: device.name,
      parentId: device.parentId,
    });
    this.stmt.updateDevicePlacement.run({ ...this.deviceParams(device), secretHash });
    this.deviceCache.set(updated.id, updated);
    return updated;
  }

  device(id: string): Device | undefined {
    return this.deviceCache.get(id);
  }

  devices(filter?: { buildingId?: string; kind?: string }): Device[] {
    const out: Device[] = [];
    for (const d of this.deviceCache.values()) {
      if (filter?.buildingId !== undefined && d.buildingId !== filter.buildingId) continue;
      if (filter?.kind !== undefined && d.kind !== filter.kind) continue;
      out.push(d);
    }
    return out.sort(byId);
  }

  deviceSecretHash(id: string): string | undefined {
    const hash = this.stmt.deviceSecretHash.get(id) as string | null | undefined;
    return hash ?? undefined;
  }

  setDeviceDisabled(id: string, disabled: boolean): void {
    const existing = this.deviceCache.get(id);
    if (!existing) throw new ReferenceNotFoundError('device', id);
    this.stmt.setDisabled.run(disabled ? 1 : 0, id);
    this.deviceCache.set(id, Object.freeze({ ...existing, disabled }));
  }

  /**
   * States of devices no longer in the registry are skipped rather than failing the whole save:
   * the pipeline's periodic snapshot must not be lost over one stale entry.
   */
  saveDeviceStates(states: readonly DeviceState[]): void {
    const save = this.db.transaction((list: readonly DeviceState[]) => {
      for (const s of list) {
        if (!this.deviceCache.has(s.deviceId)) continue;
        this.stmt.saveState.run({
          deviceId: s.deviceId,
          lastSeen: s.lastSeen,
          status: s.status,
          statusChangedAt: s.statusChangedAt,
          latest: JSON.stringify(s.latest),
        });
      }
    });
    save(states);
  }

  deviceStates(): DeviceState[] {
    return (this.stmt.states.all() as StateRow[]).map((r) => ({
      deviceId: r.device_id,
      lastSeen: r.last_seen,
      status: r.status,
      statusChangedAt: r.status_changed_at,
      latest: JSON.parse(r.latest) as DeviceState['latest'],
    }));
  }

  // --- API tokens ------------------------------------------------------------------------------

  createToken(token: ApiToken, tokenHash: string): void {
    this.stmt.insertToken.run({
      id: token.id,
      name: token.name,
      role: token.role,
      scope: JSON.stringify(token.scope),
      createdAt: token.createdAt,
      expiresAt: token.expiresAt,
      revoked: token.revoked ? 1 : 0,
      tokenHash,
    });
  }

  /** Revoked and expired tokens are returned too: the caller decides, and can say why it refused. */
  tokenByHash(tokenHash: string): ApiToken | undefined {
    const row = this.stmt.tokenByHash.get(tokenHash) as TokenRow | undefined;
    return row ? toToken(row) : undefined;
  }

  tokens(): ApiToken[] {
    return (this.stmt.tokens.all() as TokenRow[]).map(toToken);
  }

  revokeToken(id: string): void {
    const changed = this.stmt.revokeToken.run(id).changes;
    if (changed === 0) throw new ReferenceNotFoundError('token', id);
  }

  // --- helpers ---------------------------------------------------------------------------------

  private deviceParams(d: NewDevice): Record<string, unknown> {
    return { id: d.id, kind: d.kind, buildingId: d.buildingId, floor: d.floor, name: d.name, parentId: d.parentId };
  }

  private requireBuilding(d: NewDevice): void {
    if (!this.buildingCache.has(d.buildingId)) {
      throw new ReferenceNotFoundError('building', d.buildingId, `device '${d.id}'`);
    }
  }

  private requireRow(
    stmt: { get(id: string): unknown },
    entity: 'street' | 'community' | 'grid',
    id: string,
    context: string,
  ): void {
    if (stmt.get(id) === undefined) throw new ReferenceNotFoundError(entity, id, context);
  }
}

/** A device as registered now: enabled, created at `now`. */
function newDevice(device: NewDevice, now: number): Device {
  return toDevice({
    id: device.id,
    kind: device.kind,
    building_id: device.buildingId,
    floor: device.floor,
    name: device.name,
    parent_id: device.parentId,
    disabled: 0,
    created_at: now,
  });
}
