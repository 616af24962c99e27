import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../../gateway/src/adapters/sqlite/database.js';
import { SqliteDeadLetterStore } from '../../../gateway/src/adapters/sqlite/dead-letters.js';
import type { RejectionReason } from '../../../gateway/src/domain/rejection.js';
import { tempDir, type TempDir } from './support/fixtures.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function entry(i: number, extra: { reason?: RejectionReason; deviceId?: string | null; payload?: Uint8Array } = {}) {
  return {
    receivedAt: 1_700_000_000_000 + i,
    topic: `gridwatch/v1/dev-${i}/telemetry`,
    deviceId: extra.deviceId === undefined ? `dev-${i}` : extra.deviceId,
    reason: extra.reason ?? ('schema_violation' as RejectionReason),
    detail: `/temperature must be <= 120 (#${i})`,
    payload: extra.payload ?? utf8(`{"temperature":${i}}`),
  };
}

describe('SqliteDeadLetterStore', () => {
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

  it('keeps a valid UTF-8 payload as text with its size, reason and detail', () => {
    const store = new SqliteDeadLetterStore(db);
    store.add(entry(1, { payload: utf8('{"note":"烟感 alarm"}') }));
    const [dl] = store.list({ limit: 10 });
    expect(dl).toEqual({
      id: expect.any(Number),
      receivedAt: 1_700_000_000_001,
      topic: 'gridwatch/v1/dev-1/telemetry',
      deviceId: 'dev-1',
      reason: 'schema_violation',
      detail: '/temperature must be <= 120 (#1)',
      size: utf8('{"note":"烟感 alarm"}').byteLength,
      payload: '{"note":"烟感 alarm"}',
      encoding: 'utf8',
      truncated: false,
    });
  });

  it('keeps a payload that is not valid UTF-8 as base64 of the exact bytes', () => {
    const store = new SqliteDeadLetterStore(db);
    const bytes = new Uint8Array([0x7b, 0xff, 0xfe, 0x00, 0xc3]);
    store.add(entry(1, { reason: 'invalid_utf8', payload: bytes }));
    const [dl] = store.list({ limit: 1 });
    expect(dl?.encoding).toBe('base64');
    expect(Buffer.from(dl?.payload ?? '', 'base64')).toEqual(Buffer.from(bytes));
    expect(dl?.size).toBe(5);
  });

  it('cuts long payloads to the limit, on a character boundary, and flags them', () => {
    const store = new SqliteDeadLetterStore(db, { maxPayloadBytes: 10 });
    // 'aaaaaaaaa' (9 bytes) + '烟' (3 bytes): the cut at 10 would split the character.
    store.add(entry(1, { payload: utf8('aaaaaaaaa烟bbb') }));
    store.add(entry(2, { payload: new Uint8Array(64).fill(0xff) }));
    store.add(entry(3, { payload: utf8('exactly10!') }));
    const [exact, binary, text] = store.list({ limit: 10 });
    expect(text).toMatchObject({ payload: 'aaaaaaaaa', encoding: 'utf8', truncated: true, size: 15 });
    expect(binary).toMatchObject({ encoding: 'base64', truncated: true, size: 64 });
    expect(Buffer.from(binary?.payload ?? '', 'base64')).toHaveLength(10);
    expect(exact).toMatchObject({ payload: 'exactly10!', truncated: false });
  });

  it('keeps only the newest `capacity` entries, counts the evicted, and deletes in batches', () => {
    const store = new SqliteDeadLetterStore(db, { capacity: 50 });
    for (let i = 0; i < 53; i++) store.add(entry(i));
    expect(store.count()).toBe(50);
    expect(store.evicted()).toBe(3);
    const listed = store.list({ limit: 100 });
    expect(listed).toHaveLength(50);
    expect(listed[0]?.deviceId).toBe('dev-52');
    expect(listed[49]?.deviceId).toBe('dev-3');
    // Not yet physically deleted: eviction runs once a batch (capacity/10) has piled up.
    expect(db.prepare('SELECT COUNT(*) FROM dead_letters').pluck().get()).toBe(53);
    for (let i = 53; i < 60; i++) store.add(entry(i));
    expect(db.prepare('SELECT COUNT(*) FROM dead_letters').pluck().get()).toBe(50);
    expect(store.evicted()).toBe(10);
    expect(store.list({ limit: 100 }).map((d) => d.deviceId)).toEqual(Array.from({ length: 50 }, (_, i) => `dev-${59 - i}`));
  });

  it('stays bounded across a reopen with a smaller capacity', () => {
    const big = new SqliteDeadLetterStore(db, { capacity: 100 });
    for (let i = 0; i < 80; i++) big.add(entry(i));
    const small = new SqliteDeadLetterStore(db, { capacity: 20 });
    expect(small.count()).toBe(20);
    expect(db.prepare('SELECT COUNT(*) FROM dead_letters').pluck().get()).toBe(20);
    expect(small.list({ limit: 5 }).map((d) => d.deviceId)).toEqual(['dev-79', 'dev-78', 'dev-77', 'dev-76', 'dev-75']);
  });

  it('filters by reason and device and pages backwards with `before`', () => {
    const store = new SqliteDeadLetterStore(db);
    for (let i = 0; i < 10; i++) {
      store.add(entry(i, { reason: i % 2 === 0 ? 'malformed_json' : 'unknown_device', deviceId: i < 5 ? 'dev-a' : null }));
    }
    expect(store.list({ reason: 'malformed_json', limit: 100 })).toHaveLength(5);
    expect(store.list({ deviceId: 'dev-a', limit: 100 })).toHaveLength(5);
    expect(store.list({ deviceId: 'dev-a', reason: 'unknown_device', limit: 100 }).map((d) => d.receivedAt % 100)).toEqual([3, 1]);
    const page1 = store.list({ limit: 4 });
    const page2 = store.list({ limit: 4, before: page1[3]?.id });
    expect(page2[0]?.id).toBe((page1[3]?.id ?? 0) - 1);
    expect(new Set([...page1, ...page2].map((d) => d.id)).size).toBe(8);
  });
});
