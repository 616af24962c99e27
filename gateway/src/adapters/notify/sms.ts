/**
 * SMS: the channel validates the phone number and hands the plain text to an SmsProvider. The
 * default provider only logs (phone masked) and counts the message as sent, so a site without an
 * SMS contract still sees the whole flow; `AliyunSmsProvider` sends for real.
 */
import { maskPhone } from './targets.js';
import { permanent, sent, type ChannelSender, type NotifyLogger, type OutgoingMessage, type SendResult } from './types.js';

export interface SmsProvider {
  readonly name: string;
  /** `phone` is normalised (digits, optional leading +). Never throws. */
  send(phone: string, text: string): Promise<SendResult>;
}

/** Mainland mobile numbers (1 + 10 digits, optionally +86/0086) or any E.164 number. */
const PHONE = /^(?:(?:\+|00)86)?1\d{10}$|^\+[1-9]\d{6,14}$/;

/** Strips spaces, dashes and brackets people type; returns null when what is left is no number. */
export function normalisePhone(raw: string): string | null {
  const compact = raw.replace(/[\s\-()]/g, '');
  if (!PHONE.test(compact)) return null;
  return compact.startsWith('00') ? `+${compact.slice(2)}` : compact;
}

export class LogSmsProvider implements SmsProvider {
  readonly name = 'log';
  private count = 0;

  constructor(private readonly log: NotifyLogger) {}

  async send(phone: string, text: string): Promise<SendResult> {
    this.count += 1;
    // The text can hold an acknowledge link (a bearer credential): log its length, not its content.
    this.log.info({ phone: maskPhone(phone), chars: text.length }, 'SMS not sent: no SMS provider configured (log provider)');
    return sent('logged');
  }

  /** Messages that would have been sent since start. */
  sentCount(): number {
    return this.count;
  }
}

export class SmsSender implements ChannelSender {
  readonly type = 'sms' as const;

  constructor(private readonly provider: SmsProvider) {}

  async send(message: OutgoingMessage, target: string): Promise<SendResult> {
    const phone = normalisePhone(target);
    if (phone === null) return permanent('bad_target', `'${maskPhone(target)}' is not a phone number`);
    try {
      return await this.provider.send(phone, message.text);
    } catch (err) {
      // A provider must not throw; if one does, treat it as a transient fault of that provider.
      return { ok: false, retryable: true, code: 'provider_error', error: `${this.provider.name}: ${(err as Error).message}` };
    }
  }
}
