/**
 * One HTTP POST with a deadline, and the shared classification of HTTP answers: network errors,
 * 408, 429 and 5xx are worth retrying (RFC 9110 §15.6: the server failed, not the request);
 * other 4xx mean the request or target is wrong and will stay wrong.
 */
import { permanent, retryable, type SendResult } from './types.js';

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  readonly retryAfterMs: number | undefined;
}

export interface PostOptions {
  readonly headers?: Record<string, string>;
  readonly timeoutMs: number;
}

/** POSTs and reads the whole answer; a network failure or timeout comes back as a SendResult. */
export async function post(url: URL, body: string, contentType: string, options: PostOptions): Promise<HttpAnswer | SendResult> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': contentType, ...options.headers },
      body,
      // A robot URL that redirects is misconfigured: the 3xx comes back as a permanent failure.
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    const text = await response.text();
    return { status: response.status, body: text, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return retryable('timeout', `no answer within ${options.timeoutMs} ms`);
    // fetch wraps socket errors: the code (ECONNREFUSED, ENOTFOUND…) is on the cause.
    const code = e.cause?.code ?? 'network';
    return retryable(code, `network error: ${code}`);
  }
}

export function isAnswer(value: HttpAnswer | SendResult): value is HttpAnswer {
  return 'status' in value;
}

/** A non-2xx answer as a SendResult; null when the status is 2xx (the caller reads the body). */
export function classifyHttpStatus(answer: HttpAnswer): SendResult | null {
  const { status } = answer;
  if (status >= 200 && status < 300) return null;
  const code = `http_${status}`;
  if (status === 408 || status === 429 || status >= 500) return retryable(code, `HTTP ${status}`, answer.retryAfterMs);
  return permanent(code, `HTTP ${status}`);
}

/** Retry-After in seconds (the date form is rare from robots and ignored). Capped at 10 min. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0) return undefined;
  return Math.min(seconds, 600) * 1000;
}

/** Parses a robot's JSON answer; providers' errcode decides success, not the HTTP status. */
export function parseJsonObject(body: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
