import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../../gateway/src/adapters/sqlite/database.js';
import { SqliteRuleOverridesStore } from '../../../gateway/src/adapters/sqlite/rule-overrides-store.js';
import { tempDir, type TempDir } from './support/fixtures.js';

const T = 1_750_000_000_000;

describe('SqliteRuleOverridesStore', () => {
  let dir: TempDir;
  let db: Database;

  beforeEach(() => {
    dir = tempDir();
    db = openDatabase(dir.file('gridwatch.db'));
  });

  afterEach(() => {
    if (db.open) db.close();
    dir.remove();
  });

  it('answers {} for a level never set', () => {
    const store = new SqliteRuleOverridesStore(db);
    expect(store.get('building', 'b-1')).toEqual({});
    expect(store.audit('building', 'b-1')).toBeUndefined();
  });

  it('reads back what was set, with who and when', () => {
    const store = new SqliteRuleOverridesStore(db);
    const overrides = {
      'door.held_open': { params: { afterS: 60, occupiedHours: ['07:00', '22:00'], schedule: { weekend: false } } },
      'battery.low': { enabled: false },
    };
    store.set('building', 'b-1', overrides, 'tok-staff', T);
    expect(store.get('building', 'b-1')).toEqual(overrides);
    expect(store.audit('building', 'b-1')).toEqual({ updatedBy: 'tok-staff', updatedAt: T });
  });

  it('replaces rather than merges, and keeps an emptied level with its audit', () => {
    const store = new SqliteRuleOverridesStore(db);
    store.set('device', 'smoke-1', { 'smoke.alarm': { params: { verifyS: 45 } }, 'battery.low': { enabled: false } }, 'tok-a', T);
    store.set('device', 'smoke-1', { 'smoke.alarm': { enabled: true } }, 'tok-b', T + 1000);
    expect(store.get('device', 'smoke-1')).toEqual({ 'smoke.alarm': { enabled: true } });
    store.set('device', 'smoke-1', {}, 'tok-c', T + 2000);
    expect(store.get('device', 'smoke-1')).toEqual({});
    expect(store.audit('device', 'smoke-1')).toEqual({ updatedBy: 'tok-c', updatedAt: T + 2000 });
  });

  it('keeps building and device levels apart even for the same id', () => {
    const store = new SqliteRuleOverridesStore(db);
    store.set('building', 'x-1', { a: { enabled: false } }, 'tok', T);
    store.set('device', 'x-1', { b: { enabled: true } }, 'tok', T);
    expect(store.get('building', 'x-1')).toEqual({ a: { enabled: false } });
    expect(store.get('device', 'x-1')).toEqual({ b: { enabled: true } });
  });

  it('all() lists every level, buildings first, for the rule engine at start-up; survives a restart', () => {
    const file = dir.file('restart.db');
    const first = openDatabase(file);
    const store = new SqliteRuleOverridesStore(first);
    store.set('device', 'smoke-2', { 'smoke.alarm': { params: { verifyS: 20 } } }, 'tok-1', T);
    store.set('building', 'b-2', { 'battery.low': { enabled: false } }, 'tok-2', T + 1);
    store.set('building', 'b-1', {}, 'tok-3', T + 2);
    first.close();
    const second = openDatabase(file);
    try {
      expect(new SqliteRuleOverridesStore(second).all()).toEqual([
        { level: 'building', id: 'b-1', overrides: {}, updatedBy: 'tok-3', updatedAt: T + 2 },
        { level: 'building', id: 'b-2', overrides: { 'battery.low': { enabled: false } }, updatedBy: 'tok-2', updatedAt: T + 1 },
        { level: 'device', id: 'smoke-2', overrides: { 'smoke.alarm': { params: { verifyS: 20 } } }, updatedBy: 'tok-1', updatedAt: T },
      ]);
      expect(second.prepare("SELECT version FROM schema_migrations WHERE scope = 'rules'").pluck().all()).toEqual([1]);
    } finally {
      second.close();
    }
  });

  it('refuses an unknown level, a missing id or actor, and a time that is not one', () => {
    const store = new SqliteRuleOverridesStore(db);
    expect(() => store.set('street' as 'building', 's-1', {}, 'tok', T)).toThrow(/level must be 'building' or 'device'/);
    expect(() => store.get('grid' as 'device', 'g-1')).toThrow(/level must be/);
    expect(() => store.set('building', '', {}, 'tok', T)).toThrow(/need a building or device id/);
    expect(() => store.set('building', 'b-1', {}, '', T)).toThrow(/need an actor/);
    expect(() => store.set('building', 'b-1', {}, 'tok', Number.NaN)).toThrow(/need a time/);
    expect(store.all()).toEqual([]);
  });

  it('constructing twice on one database applies the schema once', () => {
    new SqliteRuleOverridesStore(db).set('building', 'b-1', { a: { enabled: false } }, 'tok', T);
    expect(new SqliteRuleOverridesStore(db).get('building', 'b-1')).toEqual({ a: { enabled: false } });
  });
});
