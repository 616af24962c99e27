/**
 * Signed acknowledge links: a token that names an alert and a person and expires, so a captain
 * can acknowledge from an SMS or chat message without logging in.
 *
 * Format (short enough for SMS): base64url(payload) '.' base64url(MAC), where payload is
 *   version (1 byte, 1) | expiry, unix seconds (uint32 BE) | alertId length (1 byte) | alertId | personId
 * (ids UTF-8) and MAC is HMAC-SHA256(key, payload bytes) cut to 16 bytes: 128 bits, well above the
 * 64-bit floor NIST SP 800-107 §5.3.3 sets for truncated HMAC. Expiry has one-second precision
 * (rounded down, so a token never outlives what was asked).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const VERSION = 1;
const MAC_BYTES = 16;
const MIN_KEY_BYTES = 16;
const MAX_ID_BYTES = 255;

export interface AckClaims {
  readonly alertId: string;
  readonly personId: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

export type AckVerification = { alertId: string; personId: string } | { error: 'malformed' | 'bad_signature' | 'expired' };

function assertKey(key: Buffer): void {
  if (key.length < MIN_KEY_BYTES) throw new Error(`ack key must be at least ${MIN_KEY_BYTES} bytes (32 random bytes recommended)`);
}

function mac(payload: Buffer, key: Buffer): Buffer {
  return createHmac('sha256', key).update(payload).digest().subarray(0, MAC_BYTES);
}

export function signAckToken(claims: AckClaims, key: Buffer): string {
  assertKey(key);
  const alert = Buffer.from(claims.alertId, 'utf8');
  const person = Buffer.from(claims.personId, 'utf8');
  if (alert.length === 0 || alert.length > MAX_ID_BYTES) throw new Error('alertId must be 1..255 bytes');
  if (person.length === 0 || person.length > MAX_ID_BYTES) throw new Error('personId must be 1..255 bytes');
  const expiry = Math.floor(claims.expiresAt / 1000);
  if (!Number.isInteger(expiry) || expiry < 0 || expiry > 0xffffffff) throw new Error('expiresAt is out of range');
  const payload = Buffer.alloc(6 + alert.length + person.length);
  payload.writeUInt8(VERSION, 0);
  payload.writeUInt32BE(expiry, 1);
  payload.writeUInt8(alert.length, 5);
  alert.copy(payload, 6);
  person.copy(payload, 6 + alert.length);
  return `${payload.toString('base64url')}.${mac(payload, key).toString('base64url')}`;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Checks the MAC before reading any claim, compares in constant time, then checks expiry. */
export function verifyAckToken(token: string, key: Buffer, now: number): AckVerification {
  assertKey(key);
  if (typeof token !== 'string' || token.length > 1024) return { error: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 2) return { error: 'malformed' };
  const [payloadPart, macPart] = parts as [string, string];
  if (!BASE64URL.test(payloadPart) || !BASE64URL.test(macPart)) return { error: 'malformed' };
  const payload = Buffer.from(payloadPart, 'base64url');
  const given = Buffer.from(macPart, 'base64url');
  if (payload.length < 8 || given.length !== MAC_BYTES) return { error: 'malformed' };
  if (!timingSafeEqual(given, mac(payload, key))) return { error: 'bad_signature' };
  // Signed by us, so the layout is ours; still checked, in case a future version differs.
  if (payload.readUInt8(0) !== VERSION) return { error: 'malformed' };
  const alertLength = payload.readUInt8(5);
  if (alertLength === 0 || 6 + alertLength >= payload.length) return { error: 'malformed' };
  let alertId: string;
  let personId: string;
  try {
    alertId = strictUtf8.decode(payload.subarray(6, 6 + alertLength));
    personId = strictUtf8.decode(payload.subarray(6 + alertLength));
  } catch {
    return { error: 'malformed' };
  }
  if (now >= payload.readUInt32BE(1) * 1000) return { error: 'expired' };
  return { alertId, personId };
}

/** The link put into messages: `<publicBaseUrl>/ack/<token>` (the token is URL-safe as it is). */
export function ackLink(publicBaseUrl: string, token: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/ack/${token}`;
}
