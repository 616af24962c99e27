import { describe, expect, it } from 'vitest';
import { AuthCache, secretDigest } from '../../../broker/src/auth-cache.js';
import { AuthThrottle } from '../../../broker/src/auth-throttle.js';

function clock(start = 1_000_000) {
  return {
    t: start,
    now() {
      return this.t;
    },
  };
}

describe('AuthThrottle', () => {
  it('blocks after maxFailures within the window, for blockMs', () => {
    const c = clock();
    const throttle = new AuthThrottle(c, { maxFailures: 3, windowMs: 10_000, blockMs: 5_000, maxBlockMs: 40_000 });
    throttle.recordFailure('addr:a');
    throttle.recordFailure('addr:a');
    expect(throttle.isBlocked('addr:a')).toBe(false);
    throttle.recordFailure('addr:a');
    expect(throttle.blockedUntil('addr:a')).toBe(c.t + 5_000);
    c.t += 4_999;
    expect(throttle.isBlocked('addr:a')).toBe(true);
    c.t += 1;
    expect(throttle.isBlocked('addr:a')).toBe(false);
    expect(throttle.isBlocked('addr:b')).toBe(false);
  });

  it('doubles the block on each trip up to the cap, and forgets a key that stays quiet', () => {
    const c = clock();
    const throttle = new AuthThrottle(c, { maxFailures: 1, windowMs: 1_000, blockMs: 10_000, maxBlockMs: 35_000 });
    const blocks: number[] = [];
    for (let i = 0; i < 4; i++) {
      throttle.recordFailure('k');
      const until = throttle.blockedUntil('k');
      blocks.push(until - c.t);
      c.t = until;
    }
    expect(blocks).toEqual([10_000, 20_000, 35_000, 35_000]);

    c.t += 35_000;
    throttle.recordFailure('k');
    expect(throttle.blockedUntil('k') - c.t).toBe(10_000);
  });

  it('does not count failures spread wider than the window', () => {
    const c = clock();
    const throttle = new AuthThrottle(c, { maxFailures: 2, windowMs: 1_000 });
    throttle.recordFailure('k');
    c.t += 1_000;
    throttle.recordFailure('k');
    expect(throttle.isBlocked('k')).toBe(false);
  });

  it('forgets a key on success and keeps at most maxKeys', () => {
    const throttle = new AuthThrottle(clock(), { maxFailures: 5, maxKeys: 2 });
    throttle.recordFailure('a');
    throttle.recordFailure('b');
    throttle.recordFailure('c');
    expect(throttle.size()).toBe(2);
    throttle.recordSuccess('b');
    expect(throttle.size()).toBe(1);
  });

  it('rejects nonsense settings', () => {
    expect(() => new AuthThrottle(clock(), { maxFailures: 0 })).toThrow(RangeError);
  });
});

describe('AuthCache', () => {
  it('remembers one secret per device until its ttl, and forgets on demand', () => {
    const c = clock();
    const cache = new AuthCache(c, { ttlMs: 1_000, maxEntries: 2 });
    const good = secretDigest(Buffer.from('good'));
    cache.remember('d1', good);
    expect(cache.has('d1', good)).toBe(true);
    expect(cache.has('d1', secretDigest(Buffer.from('bad')))).toBe(false);
    c.t += 1_000;
    expect(cache.has('d1', good)).toBe(false);

    cache.remember('d1', good);
    cache.remember('d2', good);
    cache.remember('d3', good);
    expect(cache.size()).toBe(2);
    expect(cache.has('d1', good)).toBe(false);
    cache.forget('d3');
    expect(cache.has('d3', good)).toBe(false);
  });

  it('is off with ttl 0', () => {
    const cache = new AuthCache(clock(), { ttlMs: 0 });
    cache.remember('d1', secretDigest(Buffer.from('x')));
    expect(cache.size()).toBe(0);
  });
});
