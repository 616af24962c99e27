import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskSpool } from '../../../gateway/src/adapters/influx/spool.js';
import { tempDir, type TempDir } from './support/fixtures.js';

describe('DiskSpool', () => {
  let dir: TempDir;
  const spools: DiskSpool[] = [];

  const open = (maxLines?: number): DiskSpool => {
    const spool = new DiskSpool(dir.file('data/influx-spool.db'), maxLines === undefined ? {} : { maxLines });
    spools.push(spool);
    return spool;
  };

  beforeEach(() => {
    dir = tempDir();
  });

  afterEach(() => {
    for (const s of spools.splice(0)) s.close();
    dir.remove();
  });

  it('returns lines oldest first and deletes only what was acked', () => {
    const spool = open();
    spool.append(['a', 'b', 'c'], 1000);
    spool.append(['d'], 2000);
    const first = spool.peek(2);
    expect(first.map((l) => l.line)).toEqual(['a', 'b']);
    expect(spool.peek(2)).toEqual(first); // peeking does not consume
    spool.ack(first[1]?.id ?? 0);
    expect(spool.size()).toBe(2);
    expect(spool.peek(10).map((l) => l.line)).toEqual(['c', 'd']);
    expect(spool.oldestAgeMs(1500)).toBe(500);
    spool.ack(spool.peek(10)[1]?.id ?? 0);
    expect(spool.size()).toBe(0);
    expect(spool.peek(10)).toEqual([]);
    expect(spool.oldestAgeMs(5000)).toBe(0);
  });

  it('keeps unacknowledged lines across a reopen, in order, and never reuses an id', () => {
    const spool = open();
    spool.append(['one', 'two', 'three'], 1000);
    const acked = spool.peek(1)[0]?.id ?? 0;
    spool.ack(acked);
    spool.close();
    const again = open();
    expect(again.size()).toBe(2);
    expect(again.peek(10).map((l) => l.line)).toEqual(['two', 'three']);
    again.ack(again.peek(10)[1]?.id ?? 0);
    again.append(['four'], 3000);
    expect(again.peek(1)[0]?.id).toBeGreaterThan(acked + 2);
  });

  it('drops the oldest lines beyond maxLines and counts them', () => {
    const spool = open(5);
    spool.append(['1', '2', '3'], 1);
    spool.append(['4', '5', '6', '7'], 2);
    expect(spool.size()).toBe(5);
    expect(spool.overflow()).toBe(2);
    expect(spool.peek(10).map((l) => l.line)).toEqual(['3', '4', '5', '6', '7']);
  });

  it('stores lines verbatim, whatever they contain', () => {
    const spool = open();
    const odd = 'smoke,device=a\\ b temperature=1.0 1 — 烟感';
    spool.append([odd], 1);
    expect(spool.peek(1)[0]?.line).toBe(odd);
  });

  it('appends all lines of a call or none', () => {
    const spool = open();
    expect(() => spool.append(['ok', null as unknown as string], 1)).toThrow();
    expect(spool.size()).toBe(0);
    expect(spool.peek(10)).toEqual([]);
  });
});
