/**
 * Opening the embedded store: one SQLite file (better-sqlite3 12; 13 crashes on Node 20) in WAL
 * mode, with versioned migrations. Every SQLite file the gateway opens (the store, the Influx
 * spool) goes through `openSqliteFile` so the pragmas and the start-up checks are the same.
 */
import BetterSqlite3 from 'better-sqlite3';
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { STORAGE_MIGRATIONS } from './migrations.js';

export type Database = BetterSqlite3.Database;

/** One schema step. Versions only grow; a shipped migration is never edited, only followed. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** How long a writer waits for another connection's lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens (creating if needed) a SQLite file with the gateway's pragmas, without any schema.
 * Start-up must fail fast with a message naming the path, not with a bare SQLITE_CANTOPEN later.
 */
export function openSqliteFile(file: string): Database {
  if (file !== ':memory:') assertWritableLocation(file);
  let db: Database;
  try {
    db = new BetterSqlite3(file);
  } catch (err) {
    throw new Error(`cannot open database '${file}': ${(err as Error).message}`, { cause: err });
  }
  try {
    // WAL: readers (the API) never block the writer (ingest). synchronous=NORMAL is durable
    // across a process crash and only risks the last transactions on power loss (sqlite.org/wal.html).
    if (file !== ':memory:') {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (String(mode).toLowerCase() !== 'wal') throw new Error(`journal_mode is '${String(mode)}', expected 'wal'`);
    }
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = ON');
    // Writing the WAL header is the first write: a read-only file fails here, at start-up.
    db.pragma('user_version', { simple: true });
    if (file !== ':memory:') db.exec('CREATE TABLE IF NOT EXISTS _gridwatch_probe (x); DROP TABLE _gridwatch_probe;');
  } catch (err) {
    db.close();
    throw new Error(`database '${file}' is not usable: ${(err as Error).message}`, { cause: err });
  }
  return db;
}

/** The embedded store: opens the file and brings its schema up to date. */
export function openDatabase(file: string): Database {
  const db = openSqliteFile(file);
  try {
    applyMigrations(db, 'storage', STORAGE_MIGRATIONS);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * Applies the migrations of one scope that are not yet recorded in `schema_migrations`, all in
 * one transaction: a failed step leaves the schema as it was. Other parts of the gateway (alerts,
 * cases) keep their own scope in the same file and call this with their own list.
 */
export function applyMigrations(db: Database, scope: string, migrations: readonly Migration[]): number[] {
  assertMigrationList(scope, migrations);
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    scope TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL,
    PRIMARY KEY (scope, version)
  ) WITHOUT ROWID`);
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations WHERE scope = ?').all(scope) as { version: number }[]).map(
      (r) => r.version,
    ),
  );
  const newest = Math.max(0, ...applied);
  const known = Math.max(0, ...migrations.map((m) => m.version));
  if (newest > known) {
    throw new Error(
      `database schema '${scope}' is at version ${newest}, newer than this gateway knows (${known}): refusing to run an older gateway on it`,
    );
  }
  const todo = migrations.filter((m) => !applied.has(m.version));
  if (todo.length === 0) return [];
  const record = db.prepare('INSERT INTO schema_migrations (scope, version, name, applied_at) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const m of todo) {
      try {
        db.exec(m.sql);
      } catch (err) {
        throw new Error(`migration ${scope}#${m.version} '${m.name}' failed: ${(err as Error).message}`, { cause: err });
      }
      record.run(scope, m.version, m.name, Date.now());
    }
  })();
  return todo.map((m) => m.version);
}

function assertMigrationList(scope: string, migrations: readonly Migration[]): void {
  let previous = 0;
  for (const m of migrations) {
    if (!Number.isInteger(m.version) || m.version <= previous) {
      throw new Error(`migrations of '${scope}' must have strictly increasing integer versions (at '${m.name}')`);
    }
    previous = m.version;
  }
}

/** Creates the directory when missing; fails with the path when it cannot be created or written. */
function assertWritableLocation(file: string): void {
  const dir = dirname(resolve(file));
  try {
    makeDirectories(dir);
  } catch (err) {
    throw new Error(`cannot create data directory '${dir}' for '${file}': ${(err as Error).message}`, { cause: err });
  }
  if (!statSync(dir).isDirectory()) throw new Error(`data directory '${dir}' for '${file}' is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
    if (existsSync(file)) accessSync(file, constants.R_OK | constants.W_OK);
  } catch (err) {
    throw new Error(`database '${file}' is on a read-only path: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * `mkdir -p` one level at a time: Node 20's `mkdirSync(…, { recursive: true })` spins forever
 * on some special file systems (e.g. under /proc) instead of failing.
 */
function makeDirectories(dir: string): void {
  const missing: string[] = [];
  for (let current = dir; !existsSync(current); current = dirname(current)) {
    missing.push(current);
    if (dirname(current) === current) break;
  }
  for (const d of missing.reverse()) mkdirSync(d);
}
