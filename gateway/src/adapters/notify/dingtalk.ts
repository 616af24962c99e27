/**
 * DingTalk custom robot (钉钉自定义机器人) with the "加签" security setting: the URL gets
 * `&timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256 of "<timestamp>\n<secret>" keyed by the
 * secret>`. Body `{msgtype: 'markdown', markdown: {title, text}}`; only `errcode === 0` is
 * success. 20 messages a minute per robot (DingTalk throttles a robot that exceeds it).
 *
 * Target: `https://oapi.dingtalk.com/robot/send?access_token=…#secret=SEC…`. A robot secured by
 * keyword instead of signature needs no secret, but every message must contain the keyword: the
 * composed markdown ends with "gridwatch", so that word works as the keyword.
 */
import { createHmac } from 'node:crypto';
import type { Clock } from '../../ports.js';
import { classifyHttpStatus, isAnswer, post } from './http.js';
import { maskSecret, parseUrlTarget } from './targets.js';
import { robotResult, truncateUtf8 } from './wecom.js';
import { permanent, type ChannelSender, type OutgoingMessage, type SendResult } from './types.js';

/** -1: system busy; 130101: send too fast. 310000 (keyword, sign, IP whitelist) and others are permanent. */
const DINGTALK_RETRYABLE = new Set([-1, 130101]);
/** DingTalk accepts much more, but a long markdown is unreadable on a phone: keep it WeCom-sized. */
export const DINGTALK_MAX_TEXT_BYTES = 4096;

export interface DingtalkSenderOptions {
  readonly clock: Clock;
  readonly timeoutMs?: number;
}

/** The `sign` value (before URL encoding) for a timestamp in ms. */
export function dingtalkSign(timestampMs: number, secret: string): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

export class DingtalkSender implements ChannelSender {
  readonly type = 'dingtalk' as const;
  private readonly clock: Clock;
  private readonly timeoutMs: number;

  constructor(options: DingtalkSenderOptions) {
    this.clock = options.clock;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async send(message: OutgoingMessage, target: string): Promise<SendResult> {
    const parsed = parseUrlTarget(target);
    if ('error' in parsed) return permanent('bad_target', parsed.error);
    const token = parsed.url.searchParams.get('access_token');
    if (!token) return permanent('bad_target', 'DingTalk robot URL has no access_token parameter');
    const url = new URL(parsed.url);
    if (parsed.secret) {
      const timestamp = this.clock.now();
      // URLSearchParams percent-encodes '+', '/' and '=' of the base64 signature, as DingTalk requires.
      url.searchParams.set('timestamp', String(timestamp));
      url.searchParams.set('sign', dingtalkSign(timestamp, parsed.secret));
    }
    const body = JSON.stringify({
      msgtype: 'markdown',
      markdown: { title: message.title, text: truncateUtf8(message.markdown ?? message.text, DINGTALK_MAX_TEXT_BYTES) },
    });
    const answer = await post(url, body, 'application/json; charset=utf-8', { timeoutMs: this.timeoutMs });
    if (!isAnswer(answer)) return answer;
    const httpFailure = classifyHttpStatus(answer);
    if (httpFailure) return httpFailure;
    return robotResult(answer.body, DINGTALK_RETRYABLE, `DingTalk robot ${maskSecret(token)}`);
  }
}
