/**
 * The notification adapters as one module: channel senders behind `ChannelSender`, the durable
 * outbox, budgets, acknowledge tokens and message composition. `createChannelSenders` builds the
 * senders from configuration so the composition root needs one call.
 */
import type { Clock } from '../../ports.js';
import { AliyunSmsProvider, type AliyunSmsConfig } from './aliyun-sms.js';
import { DingtalkSender } from './dingtalk.js';
import { EmailSender, type SmtpConfig } from './email.js';
import { LogSmsProvider, SmsSender } from './sms.js';
import { silentLogger, type ChannelSender, type NotifyLogger } from './types.js';
import { WebhookSender } from './webhook.js';
import { WecomSender } from './wecom.js';

export * from './types.js';
export * from './targets.js';
export { ackLink, signAckToken, verifyAckToken, type AckClaims, type AckVerification } from './ack-token.js';
export { composeAlertMessage, composeQueuedDigest, beijingTime, classLabel, SMS_TEXT_MAX, type ComposeInput, type ComposedMessage } from './compose.js';
export { DestinationBudgets, DEFAULT_RATE_LIMITS, type RateLimit } from './rate-limit.js';
export {
  SqliteOutbox,
  OUTBOX_MIGRATIONS,
  type SqliteOutboxOptions,
  type OutboxTimers,
  type RetryPolicy,
  type DigestPolicy,
  type NotificationAttempt,
  type AttemptOutcome,
  type OutboxCounts,
} from './outbox.js';
export { WebhookSender, signWebhook, verifyWebhookSignature, SIGNATURE_HEADER, SIGNATURE_TOLERANCE_S, type WebhookBody } from './webhook.js';
export { WecomSender } from './wecom.js';
export { DingtalkSender, dingtalkSign } from './dingtalk.js';
export { EmailSender, type SmtpConfig } from './email.js';
export { SmsSender, LogSmsProvider, normalisePhone, type SmsProvider } from './sms.js';
export { AliyunSmsProvider, aliyunRpcSignature, type AliyunSmsConfig } from './aliyun-sms.js';

export type SmsConfig = { readonly provider: 'log' } | ({ readonly provider: 'aliyun' } & AliyunSmsConfig);

export interface ChannelsConfig {
  /** Signing secret for webhook targets without `#secret=`; webhooks without either are refused. */
  readonly webhook?: { readonly secret?: string | null };
  /** No SMTP: e-mail channels fail permanently and fall back to the person's next channel. */
  readonly smtp?: SmtpConfig | null;
  /** Default: the log provider. */
  readonly sms?: SmsConfig;
  /** Per HTTP request (webhook, robots), default 10 s. */
  readonly httpTimeoutMs?: number;
}

/** Every channel sender the configuration allows (e-mail only with SMTP settings). */
export function createChannelSenders(config: ChannelsConfig, deps: { clock: Clock; log?: NotifyLogger }): ChannelSender[] {
  const log = deps.log ?? silentLogger;
  const timeoutMs = config.httpTimeoutMs ?? 10_000;
  const sms = config.sms ?? { provider: 'log' };
  const senders: ChannelSender[] = [
    new WebhookSender({ secret: config.webhook?.secret ?? null, timeoutMs, clock: deps.clock }),
    new WecomSender({ timeoutMs }),
    new DingtalkSender({ clock: deps.clock, timeoutMs }),
    new SmsSender(sms.provider === 'aliyun' ? new AliyunSmsProvider(sms, deps.clock) : new LogSmsProvider(log)),
  ];
  if (config.smtp) senders.push(new EmailSender(config.smtp));
  return senders;
}
