/**
 * Slows down password guessing. Each key (a client address, a claimed device id) counts its
 * authentication failures in a fixed window; when the count reaches the limit the key is blocked,
 * and a blocked key's CONNECTs are refused at once, without asking the registry (a scrypt verify
 * costs ~60 ms of a libuv thread, so a guessing loop would otherwise also be a CPU attack).
 * Each time a key trips the limit again its block doubles, up to a cap; a key that stays quiet
 * for a full cap after its block ends is forgotten, and with it the doubling.
 *
 * Attempts refused while blocked do not extend the block: a legitimate device behind the same
 * address (NAT) gets back in once the block ends.
 */
import type { Clock } from '../../gateway/src/ports.js';

export interface AuthThrottleOptions {
  /** Failures within `windowMs` that block the key (default 5: the 6th attempt is refused). */
  readonly maxFailures?: number;
  /** Window in which failures are counted (default 60 s). */
  readonly windowMs?: number;
  /** First block (default 30 s), doubled on each further trip. */
  readonly blockMs?: number;
  /** Longest block (default 15 min). */
  readonly maxBlockMs?: number;
  /** Keys tracked at most (default 10 000); beyond it the oldest are dropped. */
  readonly maxKeys?: number;
}

interface KeyState {
  windowStart: number;
  failures: number;
  trips: number;
  blockedUntil: number;
  lastFailure: number;
}

export class AuthThrottle {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly blockMs: number;
  readonly maxBlockMs: number;
  readonly maxKeys: number;
  private readonly keys = new Map<string, KeyState>();

  constructor(
    private readonly clock: Clock,
    options: AuthThrottleOptions = {},
  ) {
    this.maxFailures = positive(options.maxFailures ?? 5, 'maxFailures');
    this.windowMs = positive(options.windowMs ?? 60_000, 'windowMs');
    this.blockMs = positive(options.blockMs ?? 30_000, 'blockMs');
    this.maxBlockMs = Math.max(this.blockMs, positive(options.maxBlockMs ?? 15 * 60_000, 'maxBlockMs'));
    this.maxKeys = positive(options.maxKeys ?? 10_000, 'maxKeys');
  }

  /** Epoch ms until which the key is blocked, or 0 when it is not. */
  blockedUntil(key: string): number {
    const state = this.current(key);
    if (!state) return 0;
    return state.blockedUntil > this.clock.now() ? state.blockedUntil : 0;
  }

  isBlocked(key: string): boolean {
    return this.blockedUntil(key) > 0;
  }

  recordFailure(key: string): void {
    const now = this.clock.now();
    let state = this.current(key);
    if (!state) {
      state = { windowStart: now, failures: 0, trips: 0, blockedUntil: 0, lastFailure: now };
      this.keys.set(key, state);
      this.bound();
    }
    if (now - state.windowStart >= this.windowMs) {
      state.windowStart = now;
      state.failures = 0;
    }
    state.failures++;
    state.lastFailure = now;
    if (state.failures >= this.maxFailures) {
      const block = Math.min(this.maxBlockMs, this.blockMs * 2 ** Math.min(state.trips, 30));
      state.trips++;
      state.blockedUntil = now + block;
      // A new window starts after the block, so the next trip needs `maxFailures` fresh failures.
      state.windowStart = state.blockedUntil;
      state.failures = 0;
    }
  }

  /** A success forgets the key's failures (used for the device key, not for shared addresses). */
  recordSuccess(key: string): void {
    this.keys.delete(key);
  }

  size(): number {
    return this.keys.size;
  }

  private current(key: string): KeyState | undefined {
    const state = this.keys.get(key);
    if (!state) return undefined;
    const quietSince = Math.max(state.blockedUntil, state.lastFailure);
    if (this.clock.now() - quietSince >= Math.max(this.maxBlockMs, this.windowMs)) {
      this.keys.delete(key);
      return undefined;
    }
    return state;
  }

  /** Map order is insertion order: drop the oldest keys first. */
  private bound(): void {
    while (this.keys.size > this.maxKeys) {
      const oldest = this.keys.keys().next();
      if (oldest.done) return;
      this.keys.delete(oldest.value);
    }
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`throttle.${name} must be a positive number, got ${value}`);
  return value;
}
