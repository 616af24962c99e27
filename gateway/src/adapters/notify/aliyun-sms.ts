/**
 * Alibaba Cloud SMS (阿里云短信服务), the SendSms action of the dysmsapi RPC API (version
 * 2017-05-25), called over fetch with the RPC v1 signature so no SDK is needed:
 *
 *   canonical = sorted params, each `percent(key)=percent(value)`, joined by '&'
 *   stringToSign = 'POST&' + percent('/') + '&' + percent(canonical)
 *   Signature = base64(HMAC-SHA1(key = AccessKeySecret + '&', stringToSign))
 *
 * where percent() is RFC 3986 encoding (only A-Z a-z 0-9 - _ . ~ stay as they are).
 * Mainland SMS must use an approved signature (签名) and template (模板): the text goes into one
 * template variable (`templateParamName`, default `content`).
 *
 * Answer `Code === 'OK'` is success. isv.BUSINESS_LIMIT_CONTROL (per-number frequency limit),
 * Throttling.* and isp.* (provider side) are retryable; other isv.* (bad number, template,
 * signature name, balance), signature and access-key errors are permanent.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Clock } from '../../ports.js';
import { isAnswer, parseJsonObject, post } from './http.js';
import { maskPhone } from './targets.js';
import type { SmsProvider } from './sms.js';
import { permanent, retryable, sent, type SendResult } from './types.js';

export interface AliyunSmsConfig {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  /** Approved SMS signature name (签名名称). */
  readonly signName: string;
  /** Approved template code (模板CODE), e.g. SMS_123456789, with one variable for the text. */
  readonly templateCode: string;
  readonly templateParamName?: string;
  /** Default `https://dysmsapi.aliyuncs.com/`. */
  readonly endpoint?: string;
  readonly regionId?: string;
  readonly timeoutMs?: number;
}

/** RFC 3986 percent-encoding as the RPC signature requires. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The RPC v1 signature of a parameter set (without `Signature`). */
export function aliyunRpcSignature(method: 'GET' | 'POST', params: Record<string, string>, accessKeySecret: string): string {
  const canonical = Object.keys(params)
    .sort()
    .map((key) => `${percentEncode(key)}=${percentEncode(params[key] ?? '')}`)
    .join('&');
  const stringToSign = `${method}&${percentEncode('/')}&${percentEncode(canonical)}`;
  return createHmac('sha1', `${accessKeySecret}&`).update(stringToSign).digest('base64');
}

const RETRYABLE_CODES = new Set(['isv.BUSINESS_LIMIT_CONTROL']);

export function classifyAliyunCode(code: string, message: string): SendResult {
  if (code === 'OK') return sent('OK');
  const error = `Alibaba Cloud SMS refused: ${code}${message ? ` (${message.slice(0, 200)})` : ''}`;
  if (RETRYABLE_CODES.has(code) || code.startsWith('Throttling') || code.startsWith('isp.') || code === 'ServiceUnavailable') {
    return retryable(code, error);
  }
  return permanent(code, error);
}

export class AliyunSmsProvider implements SmsProvider {
  readonly name = 'aliyun';
  private readonly endpoint: URL;

  constructor(
    private readonly config: AliyunSmsConfig,
    private readonly clock: Clock,
  ) {
    this.endpoint = new URL(config.endpoint ?? 'https://dysmsapi.aliyuncs.com/');
  }

  async send(phone: string, text: string): Promise<SendResult> {
    const params: Record<string, string> = {
      AccessKeyId: this.config.accessKeyId,
      Action: 'SendSms',
      Format: 'JSON',
      PhoneNumbers: phone.replace(/^\+86/, ''),
      RegionId: this.config.regionId ?? 'cn-hangzhou',
      SignName: this.config.signName,
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: randomUUID(),
      SignatureVersion: '1.0',
      TemplateCode: this.config.templateCode,
      TemplateParam: JSON.stringify({ [this.config.templateParamName ?? 'content']: text }),
      // ISO 8601 UTC without milliseconds, as the RPC API expects.
      Timestamp: new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      Version: '2017-05-25',
    };
    params['Signature'] = aliyunRpcSignature('POST', params, this.config.accessKeySecret);
    const body = Object.entries(params)
      .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
      .join('&');
    const answer = await post(this.endpoint, body, 'application/x-www-form-urlencoded', { timeoutMs: this.config.timeoutMs ?? 10_000 });
    if (!isAnswer(answer)) return answer;
    const json = parseJsonObject(answer.body);
    const code = typeof json?.['Code'] === 'string' ? (json['Code'] as string) : null;
    if (code === null) {
      // No RPC answer at all: a gateway error page (5xx) or something that is not the SMS API.
      const status = `http_${answer.status}`;
      return answer.status >= 500 || answer.status === 429
        ? retryable(status, `Alibaba Cloud SMS: HTTP ${answer.status} without a Code`)
        : permanent(status, `Alibaba Cloud SMS: HTTP ${answer.status} without a Code`);
    }
    const message = typeof json?.['Message'] === 'string' ? (json['Message'] as string) : '';
    // The API echoes numbers in some messages; keep receipts free of the full number.
    return classifyAliyunCode(code, message.split(phone.replace(/^\+86/, '')).join(maskPhone(phone)));
  }
}
