/**
 * The vocabulary every notification channel shares: what is sent, what comes back, and how a
 * failure is classified. The outbox decides retries and fallback from `retryable` alone, so each
 * channel's README section says which provider answers map to which side.
 */
import type { NotificationChannelType } from '../../domain/site.js';

/** One message to one destination, as a channel sees it (built by the outbox from a request). */
export interface OutgoingMessage {
  /** Outbox notification id (or the digest's id when several were merged). */
  readonly id: string;
  readonly alertId: string | null;
  readonly personId: string;
  readonly personName: string;
  readonly title: string;
  /** Plain text: SMS and the e-mail text part. */
  readonly text: string;
  /** Markdown for WeCom/DingTalk; channels fall back to `text` when null. */
  readonly markdown: string | null;
  readonly ackUrl: string | null;
  readonly lifeSafety: boolean;
  /** Alert ids merged into this message when it is a digest (empty otherwise). */
  readonly digestOf: readonly string[];
}

export type SendResult =
  | {
      readonly ok: true;
      /** Provider's answer code ('0', 'OK', '250', HTTP status…), for receipts. */
      readonly code: string | null;
    }
  | {
      readonly ok: false;
      /** Network errors, 5xx and provider rate limits: try again later on the same channel. */
      readonly retryable: boolean;
      readonly code: string | null;
      /** Human-readable reason; never contains a secret or a full token. */
      readonly error: string;
      /** The provider asked for this much patience (HTTP Retry-After). */
      readonly retryAfterMs?: number;
    };

export interface ChannelSender {
  readonly type: NotificationChannelType;
  /** Never throws: every failure comes back as a classified SendResult. */
  send(message: OutgoingMessage, target: string): Promise<SendResult>;
}

/** The logging the notifier needs; pino's Logger fits. */
export interface NotifyLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: NotifyLogger = { info: () => {}, warn: () => {}, error: () => {} };

export function sent(code: string | null): SendResult {
  return { ok: true, code };
}

export function retryable(code: string | null, error: string, retryAfterMs?: number): SendResult {
  return retryAfterMs === undefined ? { ok: false, retryable: true, code, error } : { ok: false, retryable: true, code, error, retryAfterMs };
}

export function permanent(code: string | null, error: string): SendResult {
  return { ok: false, retryable: false, code, error };
}
