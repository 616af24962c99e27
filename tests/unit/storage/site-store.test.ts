import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../../gateway/src/adapters/sqlite/database.js';
import { ReferenceNotFoundError, SqliteSiteStore } from '../../../gateway/src/adapters/sqlite/site-store.js';
import { DeviceExistsError, type ApiToken, type NewDevice } from '../../../gateway/src/ports.js';
import { tempDir, type TempDir } from './support/fixtures.js';

function seedHierarchy(store: SqliteSiteStore): void {
  store.upsertStreet({ id: 'st-1', code: '110105001', name: 'Jianwai Street' });
  store.upsertCommunity({ id: 'co-1', streetId: 'st-1', code: '110105001001', name: 'East Community' });
  store.upsertGrid({ id: 'gr-1', communityId: 'co-1', code: '11010500100101', name: 'Grid 1' });
  store.upsertBuilding({ id: 'b-1', gridId: 'gr-1', name: 'Building 1', address: '1 East Rd', floors: 18 });
  store.upsertBuilding({ id: 'b-2', gridId: 'gr-1', name: 'Building 2', address: null, floors: null });
}

const device = (id: string, extra: Partial<NewDevice> = {}): NewDevice => ({
  id,
  kind: 'smoke',
  buildingId: 'b-1',
  floor: 3,
  name: null,
  parentId: null,
  ...extra,
});

const token = (id: string, extra: Partial<ApiToken> = {}): ApiToken => ({
  id,
  name: `token ${id}`,
  role: 'captain',
  scope: ['b-1'],
  createdAt: 1_700_000_000_000,
  expiresAt: null,
  revoked: false,
  ...extra,
});

describe('SqliteSiteStore', () => {
  let dir: TempDir;
  let db: Database;
  let store: SqliteSiteStore;

  beforeEach(() => {
    dir = tempDir();
    db = openDatabase(dir.file('gridwatch.db'));
    store = new SqliteSiteStore(db);
    seedHierarchy(store);
  });

  afterEach(() => {
    if (db.open) db.close();
    dir.remove();
  });

  function reopen(): SqliteSiteStore {
    db.close();
    db = openDatabase(dir.file('gridwatch.db'));
    store = new SqliteSiteStore(db);
    return store;
  }

  describe('hierarchy', () => {
    it('stores streets, communities, grids and buildings and updates them in place', () => {
      store.upsertGrid({ id: 'gr-1', communityId: 'co-1', code: '11010500100101', name: 'Grid One' });
      const again = reopen();
      expect(again.streets()).toEqual([{ id: 'st-1', code: '110105001', name: 'Jianwai Street' }]);
      expect(again.communities()).toEqual([{ id: 'co-1', streetId: 'st-1', code: '110105001001', name: 'East Community' }]);
      expect(again.grids()).toEqual([{ id: 'gr-1', communityId: 'co-1', code: '11010500100101', name: 'Grid One' }]);
      expect(again.buildings().map((b) => b.id)).toEqual(['b-1', 'b-2']);
      expect(again.building('b-1')).toEqual({ id: 'b-1', gridId: 'gr-1', name: 'Building 1', address: '1 East Rd', floors: 18 });
      expect(again.building('nope')).toBeUndefined();
    });

    it('refuses a level whose parent does not exist, naming both', () => {
      expect(() => store.upsertCommunity({ id: 'co-x', streetId: 'st-missing', code: '1', name: 'x' })).toThrow(
        "street 'st-missing' does not exist (community 'co-x')",
      );
      expect(() => store.upsertGrid({ id: 'gr-x', communityId: 'co-missing', code: '1', name: 'x' })).toThrow(ReferenceNotFoundError);
      expect(() => store.upsertBuilding({ id: 'b-x', gridId: 'gr-missing', name: 'x', address: null, floors: null })).toThrow(
        /grid 'gr-missing' does not exist/,
      );
      expect(store.building('b-x')).toBeUndefined();
    });

    it('keeps people with their scope and channels in order', () => {
      store.upsertPerson({
        id: 'p-1',
        name: 'Wang Fang',
        role: 'captain',
        scope: ['b-1', 'b-2'],
        channels: [
          { type: 'wecom', target: 'https://example.invalid/hook' },
          { type: 'sms', target: '+8613800000000' },
        ],
      });
      expect(reopen().people()).toEqual([
        {
          id: 'p-1',
          name: 'Wang Fang',
          role: 'captain',
          scope: ['b-1', 'b-2'],
          channels: [
            { type: 'wecom', target: 'https://example.invalid/hook' },
            { type: 'sms', target: '+8613800000000' },
          ],
        },
      ]);
    });
  });

  describe('devices', () => {
    it('creates a device, serves it from memory and keeps it across a reopen', () => {
      const created = store.createDevice(device('smk-1', { name: 'Lobby' }), 'scrypt$hash', 1000);
      expect(created).toEqual({
        id: 'smk-1',
        kind: 'smoke',
        buildingId: 'b-1',
        floor: 3,
        name: 'Lobby',
        parentId: null,
        disabled: false,
        createdAt: 1000,
      });
      expect(store.device('smk-1')).toBe(created);
      expect(store.deviceSecretHash('smk-1')).toBe('scrypt$hash');
      const again = reopen();
      expect(again.device('smk-1')).toEqual(created);
      expect(again.deviceSecretHash('smk-1')).toBe('scrypt$hash');
    });

    it('throws DeviceExistsError on a taken id and leaves the first device untouched', () => {
      store.createDevice(device('smk-1'), 'hash-a', 1000);
      let caught: unknown;
      try {
        store.createDevice(device('smk-1', { buildingId: 'b-2' }), 'hash-b', 2000);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(DeviceExistsError);
      expect((caught as DeviceExistsError).deviceId).toBe('smk-1');
      expect(store.device('smk-1')?.buildingId).toBe('b-1');
      expect(store.deviceSecretHash('smk-1')).toBe('hash-a');
    });

    it('refuses a device in a building that does not exist, and caches nothing', () => {
      expect(() => store.createDevice(device('smk-9', { buildingId: 'b-404' }), 'h', 1)).toThrow(
        "building 'b-404' does not exist (device 'smk-9')",
      );
      expect(() => store.upsertDevice(device('smk-9', { buildingId: 'b-404' }), 'h', 1)).toThrow(ReferenceNotFoundError);
      expect(store.device('smk-9')).toBeUndefined();
      expect(reopen().device('smk-9')).toBeUndefined();
    });

    it('upsert moves a device but keeps its creation time, disabled flag and (unless given) its hash', () => {
      store.createDevice(device('smk-1'), 'hash-a', 1000);
      store.setDeviceDisabled('smk-1', true);
      const moved = store.upsertDevice(device('smk-1', { buildingId: 'b-2', floor: 7, parentId: 'panel-1' }), null, 5000);
      expect(moved).toMatchObject({ buildingId: 'b-2', floor: 7, parentId: 'panel-1', disabled: true, createdAt: 1000 });
      expect(store.deviceSecretHash('smk-1')).toBe('hash-a');
      store.upsertDevice(device('smk-1', { buildingId: 'b-2' }), 'hash-b', 6000);
      expect(store.deviceSecretHash('smk-1')).toBe('hash-b');
      const before = store.device('smk-1');
      expect(reopen().device('smk-1')).toEqual(before);
    });

    it('upsert creates a device that does not exist yet, with or without a hash', () => {
      store.upsertDevice(device('cam-1', { kind: 'camera' }), null, 42);
      expect(store.device('cam-1')).toMatchObject({ kind: 'camera', createdAt: 42, disabled: false });
      expect(store.deviceSecretHash('cam-1')).toBeUndefined();
    });

    it('keeps the cache in step with disable/enable, and refuses unknown ids', () => {
      store.createDevice(device('smk-1'), 'h', 1);
      store.setDeviceDisabled('smk-1', true);
      expect(store.device('smk-1')?.disabled).toBe(true);
      expect(reopen().device('smk-1')?.disabled).toBe(true);
      expect(() => store.setDeviceDisabled('ghost', true)).toThrow("device 'ghost' does not exist");
    });

    it('lists devices sorted by id, filtered by building and kind', () => {
      store.createDevice(device('smk-2'), 'h', 1);
      store.createDevice(device('smk-1', { buildingId: 'b-2' }), 'h', 1);
      store.createDevice(device('door-1', { kind: 'door' }), 'h', 1);
      expect(store.devices().map((d) => d.id)).toEqual(['door-1', 'smk-1', 'smk-2']);
      expect(store.devices({ buildingId: 'b-1' }).map((d) => d.id)).toEqual(['door-1', 'smk-2']);
      expect(store.devices({ kind: 'smoke', buildingId: 'b-1' }).map((d) => d.id)).toEqual(['smk-2']);
      expect(store.deviceSecretHash('nobody')).toBeUndefined();
    });

    it('holds thousands of devices and answers device(id) from memory', () => {
      const insert = db.transaction(() => {
        for (let i = 0; i < 5000; i++) store.createDevice(device(`d-${i}`), 'h', i);
      });
      insert();
      const again = reopen();
      expect(again.devices()).toHaveLength(5000);
      // A cache hit returns the same frozen object every time: no query behind it.
      expect(again.device('d-4999')).toBe(again.device('d-4999'));
      expect(Object.isFrozen(again.device('d-1'))).toBe(true);
    });
  });

  describe('device states', () => {
    it('saves and reloads states, replacing earlier ones and skipping unknown devices', () => {
      store.createDevice(device('smk-1'), 'h', 1);
      store.saveDeviceStates([
        { deviceId: 'smk-1', lastSeen: 10, status: 'online', statusChangedAt: 5, latest: { temperature: { value: 21.5, ts: 10 } } },
        { deviceId: 'gone', lastSeen: 10, status: 'online', statusChangedAt: 5, latest: {} },
      ]);
      store.saveDeviceStates([
        { deviceId: 'smk-1', lastSeen: 20, status: 'offline', statusChangedAt: 20, latest: { temperature: { value: 22, ts: 20 } } },
      ]);
      expect(reopen().deviceStates()).toEqual([
        { deviceId: 'smk-1', lastSeen: 20, status: 'offline', statusChangedAt: 20, latest: { temperature: { value: 22, ts: 20 } } },
      ]);
    });
  });

  describe('api tokens', () => {
    it('finds a token by its hash only, with its role and scope', () => {
      store.createToken(token('t-1', { role: 'staff', scope: ['co-1'], expiresAt: 9_999 }), 'a'.repeat(64));
      expect(store.tokenByHash('a'.repeat(64))).toEqual(token('t-1', { role: 'staff', scope: ['co-1'], expiresAt: 9_999 }));
      expect(store.tokenByHash('b'.repeat(64))).toBeUndefined();
      expect(store.tokenByHash('t-1')).toBeUndefined();
    });

    it('revokes a token, which stays findable so the caller can say it was revoked', () => {
      store.createToken(token('t-1'), 'hash-1');
      store.createToken(token('t-2', { createdAt: 1_800_000_000_000 }), 'hash-2');
      store.revokeToken('t-1');
      reopen();
      expect(store.tokenByHash('hash-1')?.revoked).toBe(true);
      expect(store.tokens().map((t) => [t.id, t.revoked])).toEqual([
        ['t-1', true],
        ['t-2', false],
      ]);
      expect(() => store.revokeToken('t-404')).toThrow("token 't-404' does not exist");
    });

    it('refuses a second token with the same hash or an unknown role', () => {
      store.createToken(token('t-1'), 'same');
      expect(() => store.createToken(token('t-2'), 'same')).toThrow(/UNIQUE/);
      expect(() => store.createToken(token('t-3', { role: 'root' as never }), 'other')).toThrow(/CHECK/);
    });
  });
});
