/**
 * Per-destination budgets: one token bucket per (channel type, target). Robots enforce their own
 * limits (WeCom and DingTalk: 20 messages a minute per robot) and punish excess (DingTalk mutes a
 * robot for minutes), so the outbox keeps below them rather than learning from refusals.
 *
 * Life-safety messages are never held back: they take a token when there is one and otherwise
 * overdraw the bucket (down to minus its capacity), so lower classes wait longer afterwards and
 * the robot's real budget is respected on average.
 */
import type { NotificationChannelType } from '../../domain/site.js';

export interface RateLimit {
  /** Messages per minute, sustained; also the burst size. */
  readonly perMinute: number;
}

/** Defaults per channel type; null = unlimited (SMTP servers and SMS gateways queue on their side). */
export const DEFAULT_RATE_LIMITS: Readonly<Record<NotificationChannelType, RateLimit | null>> = {
  webhook: { perMinute: 60 },
  wecom: { perMinute: 20 },
  dingtalk: { perMinute: 20 },
  email: null,
  sms: null,
};

/** Refill is fractional; float rounding must not make a token due at t arrive at t+1. */
const EPSILON = 1e-9;

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class DestinationBudgets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly limits: Readonly<Record<string, RateLimit | null>>;

  constructor(limits: Partial<Record<NotificationChannelType, RateLimit | null>> = {}) {
    this.limits = { ...DEFAULT_RATE_LIMITS, ...limits };
    for (const [type, limit] of Object.entries(this.limits)) {
      if (limit !== null && !(limit.perMinute > 0)) throw new Error(`rate limit for '${type}' must be a positive number per minute`);
    }
  }

  /** Takes a token; false when the destination is over budget (unless `force`, for life-safety). */
  take(type: NotificationChannelType, target: string, now: number, force = false): boolean {
    const limit = this.limits[type];
    if (!limit) return true;
    const bucket = this.refill(type, target, limit, now);
    if (bucket.tokens >= 1 - EPSILON) {
      bucket.tokens -= 1;
      return true;
    }
    if (!force) return false;
    bucket.tokens = Math.max(bucket.tokens - 1, -limit.perMinute);
    return true;
  }

  /** When the next token will be there (now when one is). */
  nextTokenAt(type: NotificationChannelType, target: string, now: number): number {
    const limit = this.limits[type];
    if (!limit) return now;
    const bucket = this.refill(type, target, limit, now);
    if (bucket.tokens >= 1 - EPSILON) return now;
    return now + Math.ceil(((1 - bucket.tokens) * 60_000) / limit.perMinute);
  }

  private refill(type: NotificationChannelType, target: string, limit: RateLimit, now: number): Bucket {
    const key = `${type} ${target}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: limit.perMinute, updatedAt: now };
      this.buckets.set(key, bucket);
    }
    const elapsed = Math.max(0, now - bucket.updatedAt);
    bucket.tokens = Math.min(limit.perMinute, bucket.tokens + (elapsed * limit.perMinute) / 60_000);
    bucket.updatedAt = now;
    return bucket;
  }
}
