/**
 * Channel targets (NotificationChannel.target) and how they are shown in logs and receipts.
 *
 * Per-robot secrets travel in the URL fragment: `https://oapi.dingtalk.com/robot/send?
 * access_token=…#secret=SEC…`. A fragment is never sent over HTTP (RFC 3986 §3.5), so the
 * secret reaches only our signing code; it is split off before any request and never logged.
 */

export interface UrlTarget {
  /** The URL to call, without the fragment. */
  readonly url: URL;
  /** `secret` from the fragment, or null. */
  readonly secret: string | null;
}

/** Parses an http(s) target; returns an error message for anything else. */
export function parseUrlTarget(target: string): UrlTarget | { error: string } {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return { error: 'target is not a URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { error: `target scheme '${url.protocol}' is not http(s)` };
  const fragment = new URLSearchParams(url.hash.replace(/^#/, ''));
  url.hash = '';
  const secret = fragment.get('secret');
  return { url, secret: secret === null || secret === '' ? null : secret };
}

/** First four characters of a credential, then an ellipsis: enough to tell two robots apart. */
export function maskSecret(value: string): string {
  if (value.length <= 6) return '…';
  return `${value.slice(0, 4)}…`;
}

/** Query parameters that carry credentials in robot URLs (WeCom `key`, DingTalk `access_token`, `sign`). */
const CREDENTIAL_PARAMS = /^(key|access_token|token|sign|secret|signature|apikey|api_key)$/i;

/** A URL as logs may show it: credentials masked, fragment (the secret) and user info dropped. */
export function maskUrl(target: string): string {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return '(invalid URL)';
  }
  url.hash = '';
  url.username = '';
  url.password = '';
  const masked = new URLSearchParams();
  for (const [name, value] of url.searchParams) masked.append(name, CREDENTIAL_PARAMS.test(name) ? maskSecret(value) : value);
  const query = masked.toString();
  return `${url.origin}${url.pathname}${query ? `?${decodeURIComponent(query)}` : ''}`;
}

/** `z***@example.com`: the domain stays (it says which mail system), the mailbox does not. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${address[0]}***${address.slice(at)}`;
}

/** `138****5678`: the carrier prefix and last four digits, as Chinese service desks show numbers. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/[^\d+]/g, '');
  if (digits.length < 8) return '****';
  return `${digits.slice(0, digits.length - 8)}****${digits.slice(-4)}`;
}

/** Masks a target by channel type: what receipts, logs and errors show. */
export function maskTarget(type: string, target: string): string {
  switch (type) {
    case 'email':
      return maskEmail(target);
    case 'sms':
      return maskPhone(target);
    default:
      return maskUrl(target);
  }
}
