import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteAlertStore, isOpen } from '../../../gateway/src/adapters/sqlite/alert-store.js';
import { openDatabase, type Database } from '../../../gateway/src/adapters/sqlite/database.js';
import type { Alert } from '../../../gateway/src/domain/alerts/types.js';
import { tempDir, type TempDir } from './support/fixtures.js';
import { alertFixture } from '../../support/alert-fixture.js';

const T = 1_750_000_000_000;

function alert(id: string, extra: Partial<Alert> = {}): Alert {
  return alertFixture({ id, source: { deviceId: 'smoke-1', kind: 'smoke', buildingId: 'b-1', floor: 3 }, raisedAt: T, ...extra });
}

describe('SqliteAlertStore', () => {
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

  it('reads back exactly the alert it saved, history included', () => {
    const store = new SqliteAlertStore(db);
    const a = alert('al-1', {
      verification: 'verifying',
      disabled: { reason: '更换探头 detector replaced', until: T + 3_600_000, by: 'tok-staff' },
      history: [
        { at: T, event: 'raised', actor: 'system', note: null },
        { at: T + 5000, event: 'acknowledged', actor: 'tok-captain', note: '在路上 on my way' },
      ],
    });
    store.save([a]);
    expect(store.get('al-1')).toEqual(a);
    expect(store.get('al-2')).toBeUndefined();
  });

  it('upserts: a later save replaces the alert and its searchable columns', () => {
    const store = new SqliteAlertStore(db);
    const a = alert('al-1');
    store.save([a]);
    const acked = {
      ...a,
      state: 'active_ack' as const,
      acknowledgedAt: T + 1000,
      acknowledgedBy: 'tok-1',
      history: [...a.history, { at: T + 1000, event: 'acknowledged', actor: 'tok-1', note: null }],
    };
    store.save([acked]);
    expect(store.get('al-1')).toEqual(acked);
    expect(store.list({ state: 'active_unack', limit: 10 })).toEqual([]);
    expect(store.list({ state: 'active_ack', limit: 10 }).map((x) => x.id)).toEqual(['al-1']);
    expect(db.prepare('SELECT COUNT(*) FROM alerts').pluck().get()).toBe(1);
  });

  it('saves a batch in one transaction: one bad alert saves none', () => {
    const store = new SqliteAlertStore(db);
    const bad = { ...alert('al-2'), state: 'exploded' } as unknown as Alert;
    expect(() => store.save([alert('al-1'), bad])).toThrow(/CHECK constraint/);
    expect(store.get('al-1')).toBeUndefined();
  });

  it('open(): every state but normal, and normal alerts still latched, shelved or disabled until closed', () => {
    const store = new SqliteAlertStore(db);
    const cases: Array<[Alert, boolean]> = [
      [alert('unack'), true],
      [alert('ack', { state: 'active_ack' }), true],
      [alert('returned', { state: 'returned_unack', clearedAt: T + 1 }), true],
      [alert('closed', { state: 'normal', clearedAt: T + 1, closedAt: T + 2 }), false],
      [alert('latched', { state: 'normal', latched: true, clearedAt: T + 1 }), true],
      [alert('latched-reset', { state: 'normal', latched: true, clearedAt: T + 1, closedAt: T + 3 }), false],
      [alert('shelved', { state: 'normal', shelvedUntil: T + 60_000 }), true],
      [alert('disabled', { state: 'normal', disabled: { reason: 'r', until: T + 60_000, by: 'tok' } }), true],
      [alert('normal-open', { state: 'normal' }), false],
    ];
    for (const [a, open] of cases) expect(isOpen(a), a.id).toBe(open);
    store.save(cases.map(([a]) => a));
    expect(store.open().map((a) => a.id).sort()).toEqual(cases.filter(([, o]) => o).map(([a]) => a.id).sort());
    expect(store.list({ state: 'open', limit: 100 }).map((a) => a.id).sort()).toEqual(store.open().map((a) => a.id).sort());

    // Closing an alert takes it out of open().
    store.save([alert('unack', { state: 'normal', clearedAt: T + 5, acknowledgedAt: T + 4, closedAt: T + 5 })]);
    expect(store.open().map((a) => a.id)).not.toContain('unack');
  });

  it('open alerts survive a restart: the file is reopened and they are all there', () => {
    const file = dir.file('restart.db');
    const first = openDatabase(file);
    new SqliteAlertStore(first).save([alert('al-1'), alert('al-2', { state: 'normal', closedAt: T + 1 })]);
    first.close();
    const second = openDatabase(file);
    try {
      const store = new SqliteAlertStore(second);
      expect(store.open().map((a) => a.id)).toEqual(['al-1']);
      expect(store.get('al-2')?.closedAt).toBe(T + 1);
      const versions = second.prepare("SELECT version FROM schema_migrations WHERE scope = 'alerts'").pluck().all();
      expect(versions).toEqual([1]);
    } finally {
      second.close();
    }
  });

  describe('list()', () => {
    let store: SqliteAlertStore;
    beforeEach(() => {
      store = new SqliteAlertStore(db);
      store.save([
        alert('a1', { raisedAt: T + 1000 }),
        alert('a2', { raisedAt: T + 2000, state: 'active_ack', source: { deviceId: 'door-1', kind: 'door', buildingId: 'b-1', floor: 1 } }),
        alert('a3', { raisedAt: T + 3000, signalClass: 'trouble', type: 'battery.low', source: { deviceId: 'smoke-2', kind: 'smoke', buildingId: 'b-2', floor: null } }),
        alert('a4', { raisedAt: T + 3000, source: { deviceId: 'cam-1', kind: 'camera', buildingId: 'b-3', floor: null } }),
        alert('a5', { raisedAt: T + 4000, state: 'normal', closedAt: T + 5000 }),
      ]);
    });
    const ids = (alerts: Alert[]) => alerts.map((a) => a.id);

    it('answers newest first, ties broken by id (descending)', () => {
      expect(ids(store.list({ limit: 10 }))).toEqual(['a5', 'a4', 'a3', 'a2', 'a1']);
    });

    it('filters by state, open, class, buildings, device and since', () => {
      expect(ids(store.list({ state: 'active_ack', limit: 10 }))).toEqual(['a2']);
      expect(ids(store.list({ state: 'open', limit: 10 }))).toEqual(['a4', 'a3', 'a2', 'a1']);
      expect(ids(store.list({ signalClass: 'trouble', limit: 10 }))).toEqual(['a3']);
      expect(ids(store.list({ buildingIds: ['b-2', 'b-3'], limit: 10 }))).toEqual(['a4', 'a3']);
      expect(ids(store.list({ deviceId: 'door-1', limit: 10 }))).toEqual(['a2']);
      expect(ids(store.list({ since: T + 3000, limit: 10 }))).toEqual(['a5', 'a4', 'a3']);
      expect(ids(store.list({ state: 'open', buildingIds: ['b-1'], since: T + 1500, limit: 10 }))).toEqual(['a2']);
    });

    it('an empty building list matches nothing (a caller who may see no building)', () => {
      expect(store.list({ buildingIds: [], limit: 10 })).toEqual([]);
    });

    it('keyset pagination visits every alert once, across equal raisedAt', () => {
      const seen: string[] = [];
      let before: { raisedAt: number; id: string } | undefined;
      for (let page = 0; page < 10; page++) {
        const got = store.list({ limit: 2, ...(before === undefined ? {} : { before }) });
        if (got.length === 0) break;
        seen.push(...ids(got));
        const last = got[got.length - 1] as Alert;
        before = { raisedAt: last.raisedAt, id: last.id };
      }
      expect(seen).toEqual(['a5', 'a4', 'a3', 'a2', 'a1']);
      // A page boundary between the two alerts raised at T+3000.
      expect(ids(store.list({ limit: 10, before: { raisedAt: T + 3000, id: 'a4' } }))).toEqual(['a3', 'a2', 'a1']);
    });

    it('clamps the limit to at least one', () => {
      expect(store.list({ limit: 0 })).toHaveLength(1);
      expect(store.list({ limit: Number.NaN })).toHaveLength(1);
    });

    it('the list filters use their indexes, not a scan of every alert', () => {
      const plan = (sql: string) =>
        (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join(' | ');
      expect(plan("SELECT doc FROM alerts WHERE device_id = 'x' ORDER BY raised_at DESC, id DESC LIMIT 5")).toMatch(/alerts_device/);
      expect(plan("SELECT doc FROM alerts WHERE state = 'active_ack' ORDER BY raised_at DESC, id DESC LIMIT 5")).toMatch(/alerts_state/);
      expect(plan('SELECT doc FROM alerts WHERE is_open = 1 ORDER BY raised_at DESC, id DESC')).toMatch(/alerts_open/);
    });
  });

  describe('rule engine state', () => {
    it('is undefined until saved, then reads back the last saved document', () => {
      const store = new SqliteAlertStore(db);
      expect(store.loadRuleState()).toBeUndefined();
      store.saveRuleState({ timers: [{ deviceId: 'door-1', due: T + 30_000 }], exposure: { 'smoke-1': 41.5 } });
      store.saveRuleState({ timers: [], exposure: { 'smoke-1': 12 } });
      expect(store.loadRuleState()).toEqual({ timers: [], exposure: { 'smoke-1': 12 } });
      store.saveRuleState(undefined);
      expect(store.loadRuleState()).toBeUndefined();
    });

    it('survives a restart', () => {
      const file = dir.file('rules.db');
      const first = openDatabase(file);
      new SqliteAlertStore(first).saveRuleState({ v: 1, windows: ['a'] });
      first.close();
      const second = openDatabase(file);
      try {
        expect(new SqliteAlertStore(second).loadRuleState()).toEqual({ v: 1, windows: ['a'] });
      } finally {
        second.close();
      }
    });

    it('refuses a state JSON cannot hold, with a clear message, and keeps the previous one', () => {
      const store = new SqliteAlertStore(db);
      store.saveRuleState({ ok: true });
      expect(() => store.saveRuleState({ n: 10n })).toThrow(/rule engine state is not JSON-serialisable/);
      expect(store.loadRuleState()).toEqual({ ok: true });
    });
  });
});
