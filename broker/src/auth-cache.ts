/**
 * Remembers recent successful device logins so a reconnect storm (a building's switch reboots,
 * hundreds of devices reconnect at once) costs a SHA-256 each instead of a ~60 ms scrypt verify.
 * Only the SHA-256 of the secret is kept, one entry per device, for a short time; any failure
 * for the device drops its entry, and so does `forget` (device disabled or secret rotated).
 * Concurrent verifies of the same (device, secret) share one registry call.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../gateway/src/ports.js';

export interface AuthCacheOptions {
  /** How long a successful login is remembered (default 60 s; 0 turns the cache off). */
  readonly ttlMs?: number;
  /** Devices remembered at most (default 10 000); the oldest are dropped first. */
  readonly maxEntries?: number;
}

interface Entry {
  readonly secretHash: Buffer;
  readonly expiresAt: number;
}

export function secretDigest(secret: Buffer): Buffer {
  return createHash('sha256').update(secret).digest();
}

export class AuthCache {
  readonly ttlMs: number;
  readonly maxEntries: number;
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    options: AuthCacheOptions = {},
  ) {
    this.ttlMs = Math.max(0, options.ttlMs ?? 60_000);
    this.maxEntries = Math.max(1, options.maxEntries ?? 10_000);
  }

  has(deviceId: string, digest: Buffer): boolean {
    const entry = this.entries.get(deviceId);
    if (!entry) return false;
    if (entry.expiresAt <= this.clock.now()) {
      this.entries.delete(deviceId);
      return false;
    }
    return timingSafeEqual(entry.secretHash, digest);
  }

  remember(deviceId: string, digest: Buffer): void {
    if (this.ttlMs === 0) return;
    this.entries.delete(deviceId);
    this.entries.set(deviceId, { secretHash: digest, expiresAt: this.clock.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  forget(deviceId: string): void {
    this.entries.delete(deviceId);
  }

  size(): number {
    return this.entries.size;
  }
}
