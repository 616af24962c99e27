import { describe, expect, it } from 'vitest';
import { mulberry32, seedFor } from '../../../gateway/src/domain/random.js';

describe('simulator randomness', () => {
  it('replays the same stream from the same seed', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const first = Array.from({ length: 100 }, a);
    expect(Array.from({ length: 100 }, b)).toEqual(first);
    expect(Array.from({ length: 100 }, mulberry32(43))).not.toEqual(first);
  });

  it('stays in [0, 1) and spreads evenly', () => {
    const rng = mulberry32(7);
    const buckets = new Array<number>(10).fill(0);
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const v = rng();
      if (!(v >= 0 && v < 1)) outside += 1;
      else buckets[Math.floor(v * 10)]! += 1;
    }
    expect(outside).toBe(0);
    for (const n of buckets) expect(Math.abs(n - 10_000)).toBeLessThan(500);
  });

  it('gives each device its own seed, stable across runs', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `sim-smoke-${i}`);
    const seeds = ids.map((id) => seedFor(1, id));
    expect(new Set(seeds).size).toBe(ids.length);
    expect(seedFor(1, 'sim-smoke-1')).toBe(seedFor(1, 'sim-smoke-1'));
    expect(seedFor(2, 'sim-smoke-1')).not.toBe(seedFor(1, 'sim-smoke-1'));
    // Neighbouring ids must not start neighbouring streams.
    expect(Math.abs(mulberry32(seedFor(1, 'sim-smoke-1'))() - mulberry32(seedFor(1, 'sim-smoke-2'))())).toBeGreaterThan(1e-6);
  });
});
