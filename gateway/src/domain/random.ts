/**
 * Seeded randomness for everything that must be reproducible: the simulator (a run from its
 * --seed gives every device the same samples and jitter), the kind examples the API shows, and the
 * test generators. Pure: the generator is the state.
 */

/** mulberry32: a tiny 32-bit generator, uniform [0, 1). Plenty for simulation; not for secrets. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed from a run seed and a name (FNV-1a), so each device gets its own stream. */
export function seedFor(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (const ch of name) {
    h ^= ch.codePointAt(0) ?? 0;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // Final avalanche so nearby names ('sim-smoke-1', 'sim-smoke-2') do not start close together.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}
