import { describe, expect, it } from 'vitest';
import { WakeQueue } from '../../../gateway/src/domain/rules/wake-queue.js';

describe('WakeQueue', () => {
  it('pops due keys in time order and keeps the earliest request per key', () => {
    const q = new WakeQueue();
    const times = [50, 10, 40, 30, 20, 60, 5, 45];
    times.forEach((t, i) => q.request(`k${i}`, t));
    q.request('k0', 70); // later than its live request: ignored
    q.request('k5', 1); // earlier: replaces
    expect(q.peek()).toBe(1);
    const order: string[] = [];
    for (let k = q.popDue(100); k !== null; k = q.popDue(100)) order.push(k);
    expect(order).toEqual(['k5', 'k6', 'k1', 'k4', 'k3', 'k2', 'k7', 'k0']);
    expect(q.peek()).toBeNull();
    expect(q.size).toBe(0);
  });

  it('pops nothing before its time', () => {
    const q = new WakeQueue();
    q.request('a', 10);
    expect(q.popDue(9)).toBeNull();
    expect(q.popDue(10)).toBe('a');
  });

  it('stays ordered under many random requests', () => {
    const q = new WakeQueue();
    let seed = 7;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const expected = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const key = `k${Math.floor(rnd() * 300)}`;
      const at = Math.floor(rnd() * 10_000);
      q.request(key, at);
      expected.set(key, Math.min(expected.get(key) ?? Infinity, at));
    }
    let last = -1;
    const seen = new Map<string, number>();
    for (let at = q.peek(); at !== null; at = q.peek()) {
      const key = q.popDue(at)!;
      expect(at).toBeGreaterThanOrEqual(last);
      last = at;
      seen.set(key, at);
    }
    expect(seen).toEqual(expected);
  });
});
