/** A deterministic sample context for kind tests: seeded generator, advancing clock, kept state. */
import type { SampleContext } from '../../../gateway/src/domain/kind.js';

/** Small seeded PRNG (mulberry32): the same seed gives the same samples on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SampleRun {
  /** The context for the next call: clock advanced by `stepMs`, seq incremented, same state. */
  next(): SampleContext;
}

export function sampleRun(seed: number, deviceId = `conformance-${seed}`, stepMs = 60_000): SampleRun {
  const rng = seeded(seed);
  const state: Record<string, unknown> = {};
  let now = Date.UTC(2025, 5, 1, 8, 0, 0);
  let seq = 0;
  return {
    next() {
      now += stepMs;
      seq += 1;
      return { rng, now, seq, deviceId, state };
    },
  };
}
