/**
 * WeCom group robot (企业微信群机器人): POST `{msgtype: 'markdown', markdown: {content}}` to the
 * robot URL (`https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`). The robot answers HTTP
 * 200 even when it refuses: only `errcode === 0` is success. Limits (WeCom docs): 20 messages a
 * minute per robot, markdown content at most 4096 bytes UTF-8.
 */
import { classifyHttpStatus, isAnswer, parseJsonObject, post } from './http.js';
import { maskSecret, parseUrlTarget } from './targets.js';
import { permanent, retryable, sent, type ChannelSender, type OutgoingMessage, type SendResult } from './types.js';

export const WECOM_MAX_CONTENT_BYTES = 4096;

/** -1: system busy; 45009: API frequency out of limit. Everything else (93000 invalid webhook URL, 40008 bad message…) will not improve by waiting. */
const WECOM_RETRYABLE = new Set([-1, 45009]);

export interface WecomSenderOptions {
  readonly timeoutMs?: number;
}

export class WecomSender implements ChannelSender {
  readonly type = 'wecom' as const;
  private readonly timeoutMs: number;

  constructor(options: WecomSenderOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async send(message: OutgoingMessage, target: string): Promise<SendResult> {
    const parsed = parseUrlTarget(target);
    if ('error' in parsed) return permanent('bad_target', parsed.error);
    const key = parsed.url.searchParams.get('key');
    if (!key) return permanent('bad_target', 'WeCom robot URL has no key parameter');
    const content = truncateUtf8(message.markdown ?? message.text, WECOM_MAX_CONTENT_BYTES);
    const answer = await post(parsed.url, JSON.stringify({ msgtype: 'markdown', markdown: { content } }), 'application/json; charset=utf-8', {
      timeoutMs: this.timeoutMs,
    });
    if (!isAnswer(answer)) return answer;
    const httpFailure = classifyHttpStatus(answer);
    if (httpFailure) return httpFailure;
    return robotResult(answer.body, WECOM_RETRYABLE, `WeCom robot ${maskSecret(key)}`);
  }
}

/** Reads `{errcode, errmsg}`: 0 is sent, listed codes are retryable, the rest permanent. */
export function robotResult(body: string, retryableCodes: ReadonlySet<number>, who: string): SendResult {
  const json = parseJsonObject(body);
  const errcode = json?.['errcode'];
  if (typeof errcode !== 'number') return retryable('bad_answer', `${who} answered without an errcode`);
  if (errcode === 0) return sent('0');
  const errmsg = typeof json?.['errmsg'] === 'string' ? (json['errmsg'] as string).slice(0, 200) : '';
  const error = `${who} refused: errcode ${errcode}${errmsg ? ` (${errmsg})` : ''}`;
  return retryableCodes.has(errcode) ? retryable(String(errcode), error) : permanent(String(errcode), error);
}

/** Cuts a string to at most `maxBytes` of UTF-8 on a character boundary, marking the cut. */
export function truncateUtf8(value: string, maxBytes: number): string {
  if (Buffer.byteLength(value, 'utf8') <= maxBytes) return value;
  const ellipsis = '…';
  let out = '';
  let bytes = Buffer.byteLength(ellipsis, 'utf8');
  for (const ch of value) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > maxBytes) break;
    out += ch;
    bytes += size;
  }
  return out + ellipsis;
}
