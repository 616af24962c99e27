/** A deterministic sample context for kind tests: seeded generator, advancing clock, kept state. */
import type { SampleContext } from '../../../gateway/src/domain/kind.js';
import { mulberry32 } from '../../../gateway/src/domain/random.js';


export interface SampleRun {
  /** The context for the next call: clock advanced by `stepMs`, seq incremented, same state. */
  next(): SampleContext;
}

export function sampleRun(seed: number, deviceId = `conformance-${seed}`, stepMs = 60_000): SampleRun {
  const rng = mulberry32(seed);
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
