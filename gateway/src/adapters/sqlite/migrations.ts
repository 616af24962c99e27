/**
 * The embedded store's schema, as numbered steps. A shipped step is never edited: add a new one.
 * Ids are TEXT in the entity alphabet (domain/site.ts); times are epoch milliseconds (INTEGER).
 */
import type { Migration } from './database.js';

export const STORAGE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'registry: hierarchy, people, devices, device states, api tokens',
    sql: `
      CREATE TABLE streets (
        id TEXT PRIMARY KEY,
        code TEXT NOT NULL,
        name TEXT NOT NULL
      );
      CREATE TABLE communities (
        id TEXT PRIMARY KEY,
        street_id TEXT NOT NULL REFERENCES streets(id),
        code TEXT NOT NULL,
        name TEXT NOT NULL
      );
      CREATE INDEX communities_street ON communities(street_id);
      CREATE TABLE grids (
        id TEXT PRIMARY KEY,
        community_id TEXT NOT NULL REFERENCES communities(id),
        code TEXT NOT NULL,
        name TEXT NOT NULL
      );
      CREATE INDEX grids_community ON grids(community_id);
      CREATE TABLE buildings (
        id TEXT PRIMARY KEY,
        grid_id TEXT NOT NULL REFERENCES grids(id),
        name TEXT NOT NULL,
        address TEXT,
        floors INTEGER
      );
      CREATE INDEX buildings_grid ON buildings(grid_id);
      CREATE TABLE people (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('captain', 'grid_worker', 'community_staff', 'street_dispatcher')),
        scope TEXT NOT NULL,     -- JSON array of hierarchy ids
        channels TEXT NOT NULL   -- JSON array of {type, target}, in order of preference
      );
      -- parent_id is not a foreign key: a site file may list a panel after the devices behind it.
      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        building_id TEXT NOT NULL REFERENCES buildings(id),
        floor INTEGER,
        name TEXT,
        parent_id TEXT,
        disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
        created_at INTEGER NOT NULL,
        secret_hash TEXT
      );
      CREATE INDEX devices_building ON devices(building_id);
      CREATE TABLE device_states (
        device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
        last_seen INTEGER,
        status TEXT NOT NULL CHECK (status IN ('never_seen', 'online', 'offline')),
        status_changed_at INTEGER,
        latest TEXT NOT NULL     -- JSON {measurement: {value, ts}}
      ) WITHOUT ROWID;
      CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'captain', 'integrator')),
        scope TEXT NOT NULL,     -- JSON array of hierarchy ids; [] = all
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
        token_hash TEXT NOT NULL UNIQUE
      );
    `,
  },
  {
    version: 2,
    name: 'time series: readings and events',
    // Keyed so that a redelivered message (MQTT QoS 1 is at-least-once) is stored once:
    // INSERT OR IGNORE on the key. seq is part of the key so two readings a device sends within one
    // millisecond are both kept; without seq, one value per device, measurement and millisecond
    // (what InfluxDB keeps too: a point with the same series and timestamp overwrites). ts leads measurement in the readings key so that a device's
    // readings are a contiguous, time-ordered range whether or not a measurement is named.
    sql: `
      CREATE TABLE readings (
        device_id TEXT NOT NULL,
        ts INTEGER NOT NULL,
        measurement TEXT NOT NULL,
        seq_key INTEGER NOT NULL,  -- seq, or 0 when the device sent none
        value REAL NOT NULL,
        seq INTEGER,
        PRIMARY KEY (device_id, ts, measurement, seq_key)
      ) WITHOUT ROWID;
      CREATE TABLE events (
        device_id TEXT NOT NULL,
        ts INTEGER NOT NULL,
        type TEXT NOT NULL,
        seq_key INTEGER NOT NULL,  -- seq, or 0 when the device sent none
        signal_class TEXT NOT NULL,
        seq INTEGER,
        attrs TEXT NOT NULL,       -- JSON object
        PRIMARY KEY (device_id, ts, type, seq_key)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'dead letters',
    sql: `
      CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        received_at INTEGER NOT NULL,
        topic TEXT NOT NULL,
        device_id TEXT,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL,
        size INTEGER NOT NULL,
        payload TEXT NOT NULL,
        encoding TEXT NOT NULL CHECK (encoding IN ('utf8', 'base64')),
        truncated INTEGER NOT NULL CHECK (truncated IN (0, 1))
      );
    `,
  },
];
