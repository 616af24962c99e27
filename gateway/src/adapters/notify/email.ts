/**
 * E-mail through an SMTP server (nodemailer's SMTP transport): a text part and an HTML part with
 * the acknowledge link as a button. Classification follows SMTP reply codes (RFC 5321 §4.2.1):
 * 4yz is a transient refusal (retry), 5yz a permanent one (bad mailbox, policy); connection
 * problems are retried, authentication failures are not.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import { maskEmail } from './targets.js';
import { permanent, retryable, sent, type ChannelSender, type OutgoingMessage, type SendResult } from './types.js';

export interface SmtpConfig {
  readonly host: string;
  readonly port: number;
  /** true: TLS from the first byte (port 465); false: STARTTLS when the server offers it. */
  readonly secure: boolean;
  readonly auth?: { readonly user: string; readonly pass: string } | null;
  /** Envelope and header sender, e.g. `"gridwatch" <alerts@example.org>`. */
  readonly from: string;
  /** Socket, greeting and connection timeouts (default 10 s). */
  readonly timeoutMs?: number;
  /** Accept self-signed certificates (test servers only). */
  readonly allowSelfSigned?: boolean;
}

/** Addresses we even try: one @, no spaces or angle brackets (header injection). */
const ADDRESS = /^[^\s@<>",;]+@[^\s@<>",;]+\.[^\s@<>",;]+$/;

/** nodemailer's error codes that mean the connection, not the message, failed. */
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EPROTOCOL']);

export class EmailSender implements ChannelSender {
  readonly type = 'email' as const;
  private readonly transport: Transporter;
  private readonly from: string;

  constructor(config: SmtpConfig) {
    const timeout = config.timeoutMs ?? 10_000;
    this.from = config.from;
    this.transport = nodemailer.createTransport({
      host: config.host,
      port: config.port,
      secure: config.secure,
      ...(config.auth ? { auth: { user: config.auth.user, pass: config.auth.pass } } : {}),
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      ...(config.allowSelfSigned ? { tls: { rejectUnauthorized: false } } : {}),
    });
  }

  async send(message: OutgoingMessage, target: string): Promise<SendResult> {
    const to = target.trim();
    if (!ADDRESS.test(to)) return permanent('bad_target', `'${maskEmail(to)}' is not an e-mail address`);
    try {
      const info = (await this.transport.sendMail({
        from: this.from,
        to,
        subject: message.title,
        text: message.ackUrl && !message.text.includes(message.ackUrl) ? `${message.text}\n\n${message.ackUrl}` : message.text,
        html: renderHtml(message),
        headers: message.lifeSafety ? { Importance: 'high', 'X-Priority': '1' } : {},
      })) as { rejected?: unknown[]; response?: string };
      if (Array.isArray(info.rejected) && info.rejected.length > 0) return permanent('rejected', `${maskEmail(to)} was rejected`);
      return sent(smtpCode(info.response) ?? '250');
    } catch (err) {
      return classifySmtpError(err as Error & { code?: string; responseCode?: number }, to);
    }
  }

  close(): void {
    this.transport.close();
  }
}

function classifySmtpError(err: Error & { code?: string; responseCode?: number }, to: string): SendResult {
  // The server's message can echo the address; say what failed without repeating it.
  const what = `SMTP ${err.code ?? 'error'}${err.responseCode ? ` ${err.responseCode}` : ''} sending to ${maskEmail(to)}`;
  if (err.responseCode !== undefined) {
    const code = String(err.responseCode);
    return err.responseCode >= 400 && err.responseCode < 500 ? retryable(code, what) : permanent(code, what);
  }
  if (err.code === 'EAUTH') return permanent('EAUTH', what);
  if (err.code !== undefined && TRANSIENT_CODES.has(err.code)) return retryable(err.code, what);
  return retryable(err.code ?? 'smtp', what);
}

function smtpCode(response: string | undefined): string | null {
  const m = /^(\d{3})/.exec(response ?? '');
  return m?.[1] ?? null;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** Plain, inline-styled HTML: mail clients strip <style> blocks and scripts. */
export function renderHtml(message: OutgoingMessage): string {
  const paragraphs = message.text
    .split(/\n+/)
    .filter((line) => line.trim() !== '')
    .map((line) => `<p style="margin:0 0 8px">${escapeHtml(line)}</p>`)
    .join('');
  const colour = message.lifeSafety ? '#c62828' : '#455a64';
  const button = message.ackUrl
    ? `<p><a href="${escapeHtml(message.ackUrl)}" style="display:inline-block;padding:8px 16px;background:${colour};color:#fff;text-decoration:none;border-radius:4px">确认 Acknowledge</a></p>`
    : '';
  return `<!doctype html><html><body style="font-family:sans-serif"><h2 style="color:${colour}">${escapeHtml(message.title)}</h2>${paragraphs}${button}<p style="color:#888;font-size:12px">gridwatch</p></body></html>`;
}
