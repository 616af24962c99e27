import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyMigrations, openDatabase, type Database } from '../../../gateway/src/adapters/sqlite/database.js';
import { tempDir, type TempDir } from './support/fixtures.js';

describe('openDatabase', () => {
  let dir: TempDir;
  const open: Database[] = [];

  beforeEach(() => {
    dir = tempDir();
  });

  afterEach(() => {
    for (const db of open.splice(0)) if (db.open) db.close();
    dir.remove();
  });

  it('creates a missing directory and opens the file in WAL mode with foreign keys on', () => {
    const db = openDatabase(dir.file('nested/deeper/gridwatch.db'));
    open.push(db);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(Number(db.pragma('busy_timeout', { simple: true }))).toBeGreaterThan(0);
  });

  it('records each migration once and applies none twice on reopen', () => {
    const file = dir.file('gridwatch.db');
    const first = openDatabase(file);
    const versions = first.prepare("SELECT version FROM schema_migrations WHERE scope = 'storage' ORDER BY version").pluck().all();
    expect(versions).toEqual([1, 2, 3]);
    first.close();
    const second = openDatabase(file);
    open.push(second);
    expect(second.prepare('SELECT COUNT(*) FROM schema_migrations').pluck().get()).toBe(3);
  });

  it('rolls back every step of a failing migration set', () => {
    const db = openDatabase(':memory:');
    open.push(db);
    expect(() =>
      applyMigrations(db, 'alerts', [
        { version: 1, name: 'ok', sql: 'CREATE TABLE alerts_a (x)' },
        { version: 2, name: 'broken', sql: 'CREATE TABLE alerts_b (' },
      ]),
    ).toThrow(/migration alerts#2 'broken' failed/);
    expect(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'alerts_a'").pluck().get()).toBe(0);
    expect(db.prepare("SELECT COUNT(*) FROM schema_migrations WHERE scope = 'alerts'").pluck().get()).toBe(0);
  });

  it('lets another part keep its own migration scope in the same file', () => {
    const db = openDatabase(':memory:');
    open.push(db);
    expect(applyMigrations(db, 'alerts', [{ version: 1, name: 'alerts', sql: 'CREATE TABLE alerts (id TEXT)' }])).toEqual([1]);
    expect(applyMigrations(db, 'alerts', [{ version: 1, name: 'alerts', sql: 'CREATE TABLE alerts (id TEXT)' }])).toEqual([]);
  });

  it('refuses a schema newer than the code', () => {
    const db = openDatabase(':memory:');
    open.push(db);
    db.prepare("INSERT INTO schema_migrations VALUES ('storage', 99, 'future', 0)").run();
    expect(() => applyMigrations(db, 'storage', [{ version: 1, name: 'x', sql: 'SELECT 1' }])).toThrow(/version 99, newer/);
  });

  it('fails with the path when the data directory is a file', () => {
    writeFileSync(dir.file('not-a-dir'), 'x');
    expect(() => openDatabase(dir.file('not-a-dir/gridwatch.db'))).toThrow(/data directory '.*not-a-dir' .*is not a directory/);
    expect(() => openDatabase(dir.file('not-a-dir/deeper/gridwatch.db'))).toThrow(/cannot create data directory '.*not-a-dir\/deeper'/);
  });

  it('fails with the path on a read-only file system', () => {
    // /proc is mounted read-only for new entries on every Linux; root cannot write there either.
    expect(() => openDatabase('/proc/gridwatch-test/gridwatch.db')).toThrow(/gridwatch-test/);
  });

  it('fails clearly on a file that is not a database', () => {
    const file = dir.file('garbage.db');
    writeFileSync(file, 'this is not sqlite, just some text long enough to have a header...'.repeat(10));
    expect(() => openDatabase(file)).toThrow(/garbage\.db/);
  });
});
