/**
 * Generic webhook: POST JSON to the target URL, signed so the receiver can tell it came from this
 * gateway and is fresh. Header: `X-Gridwatch-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<raw body>">`. The timestamp is inside the MAC, so a receiver that rejects `t` older than
 * 5 minutes also rejects replays of captured requests (the scheme Stripe and Slack use).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../ports.js';
import { classifyHttpStatus, isAnswer, post } from './http.js';
import { parseUrlTarget } from './targets.js';
import { permanent, sent, type ChannelSender, type OutgoingMessage, type SendResult } from './types.js';

export const SIGNATURE_HEADER = 'x-gridwatch-signature';
/** Receivers reject signatures whose timestamp is further than this from their clock. */
export const SIGNATURE_TOLERANCE_S = 300;

export interface WebhookSenderOptions {
  /** Signing secret for targets that carry none in `#secret=`. */
  readonly secret?: string | null;
  readonly timeoutMs?: number;
  readonly clock: Clock;
}

/** What the receiver gets (version 1). */
export interface WebhookBody {
  readonly version: 1;
  readonly id: string;
  readonly alertId: string | null;
  readonly personId: string;
  readonly personName: string;
  readonly title: string;
  readonly text: string;
  readonly markdown: string | null;
  readonly ackUrl: string | null;
  readonly lifeSafety: boolean;
  /** Alert ids summarised when this is a digest; empty otherwise. */
  readonly digestOf: readonly string[];
  /** Epoch ms. */
  readonly sentAt: number;
}

export function signWebhook(body: string, secret: string, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  const mac = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${mac}`;
}

export type WebhookVerification = { ok: true } | { ok: false; error: 'malformed' | 'bad_signature' | 'stale' };

/**
 * What a receiver does (exported for receivers written in TypeScript and for tests): parse the
 * header, recompute the MAC over the raw body bytes, compare in constant time, check freshness.
 */
export function verifyWebhookSignature(
  header: string | undefined,
  rawBody: string,
  secret: string,
  nowMs: number,
  toleranceS = SIGNATURE_TOLERANCE_S,
): WebhookVerification {
  if (!header) return { ok: false, error: 'malformed' };
  const fields = new Map(header.split(',').map((part) => part.trim().split('=', 2) as [string, string | undefined]));
  const t = Number(fields.get('t'));
  const v1 = fields.get('v1');
  if (!Number.isInteger(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return { ok: false, error: 'malformed' };
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  if (!timingSafeEqual(expected, Buffer.from(v1, 'hex'))) return { ok: false, error: 'bad_signature' };
  if (Math.abs(nowMs / 1000 - t) > toleranceS) return { ok: false, error: 'stale' };
  return { ok: true };
}

export class WebhookSender implements ChannelSender {
  readonly type = 'webhook' as const;
  private readonly secret: string | null;
  private readonly timeoutMs: number;
  private readonly clock: Clock;

  constructor(options: WebhookSenderOptions) {
    this.secret = options.secret ?? null;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.clock = options.clock;
  }

  async send(message: OutgoingMessage, target: string): Promise<SendResult> {
    const parsed = parseUrlTarget(target);
    if ('error' in parsed) return permanent('bad_target', parsed.error);
    const secret = parsed.secret ?? this.secret;
    if (!secret) return permanent('no_secret', 'no signing secret: set the webhook secret or add #secret=… to the target');
    const now = this.clock.now();
    const payload: WebhookBody = {
      version: 1,
      id: message.id,
      alertId: message.alertId,
      personId: message.personId,
      personName: message.personName,
      title: message.title,
      text: message.text,
      markdown: message.markdown,
      ackUrl: message.ackUrl,
      lifeSafety: message.lifeSafety,
      digestOf: message.digestOf,
      sentAt: now,
    };
    const body = JSON.stringify(payload);
    const answer = await post(parsed.url, body, 'application/json; charset=utf-8', {
      timeoutMs: this.timeoutMs,
      headers: { 'X-Gridwatch-Signature': signWebhook(body, secret, now) },
    });
    if (!isAnswer(answer)) return answer;
    return classifyHttpStatus(answer) ?? sent(String(answer.status));
  }
}
