/**
 * Ports: what the gateway's core needs from the outside world. Adapters implement these; the
 * domain never imports an adapter. Each port has one conformance suite in tests/ that every
 * implementation runs.
 */
import type { DeviceEvent, Reading } from './domain/message.js';
import type { RejectionReason } from './domain/rejection.js';
import type { Alert, AlertState } from './domain/alerts/types.js';
import type { EffectiveRules, RuleOverrides } from './domain/rules/types.js';
import type { Building, Community, Device, Grid, NotificationChannel, Person, Street } from './domain/site.js';

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface SinkHealth {
  readonly ok: boolean;
  /** Messages handed to the sink and not yet durably written to its database. */
  readonly pending: number;
  /** Age of the oldest pending message, ms (0 when none). */
  readonly lagMs: number;
  readonly detail: string;
}

/**
 * A time-series destination. `write*` takes ownership of the batch and returns at once: it never
 * throws and never loses what it took (a sink whose database is down spools to disk and replays).
 */
export interface TimeSeriesSink {
  readonly name: string;
  writeReadings(readings: readonly Reading[]): void;
  writeEvents(events: readonly DeviceEvent[]): void;
  /** Resolves when everything handed over so far is durably written (or spooled). */
  flush(): Promise<void>;
  health(): SinkHealth;
  close(): Promise<void>;
}

export interface ReadingRow {
  readonly ts: number;
  readonly measurement: string;
  readonly value: number;
  readonly seq: number | null;
}

export interface ReadingQuery {
  readonly deviceId: string;
  readonly from: number;
  readonly to: number;
  readonly measurement?: string;
  readonly limit: number;
}

export interface EventRow {
  readonly ts: number;
  readonly type: string;
  readonly signalClass: string;
  readonly seq: number | null;
  readonly attrs: Record<string, unknown>;
}

/** The embedded store's read side for the API. */
export interface TimeSeriesReader {
  readings(query: ReadingQuery): ReadingRow[];
  events(query: Omit<ReadingQuery, 'measurement'>): EventRow[];
}

export interface DeadLetter {
  readonly id: number;
  readonly receivedAt: number;
  readonly topic: string;
  /** The authenticated publisher, or the id named in the topic in external-broker mode. */
  readonly deviceId: string | null;
  readonly reason: RejectionReason;
  readonly detail: string;
  /** Size of the original payload in bytes. */
  readonly size: number;
  /** The payload (truncated to the store's limit): UTF-8 text, or base64 when it is not valid UTF-8. */
  readonly payload: string;
  readonly encoding: 'utf8' | 'base64';
  readonly truncated: boolean;
}

export interface DeadLetterQuery {
  readonly reason?: RejectionReason;
  readonly deviceId?: string;
  /** Only ids below this (pagination, newest first). */
  readonly before?: number;
  readonly limit: number;
}

/** Bounded: keeps the newest `capacity` dead letters and counts the ones it had to drop. */
export interface DeadLetterStore {
  add(entry: {
    receivedAt: number;
    topic: string;
    deviceId: string | null;
    reason: RejectionReason;
    detail: string;
    payload: Uint8Array;
  }): void;
  list(query: DeadLetterQuery): DeadLetter[];
  count(): number;
}

export interface NewDevice {
  readonly id: string;
  readonly kind: string;
  readonly buildingId: string;
  readonly floor: number | null;
  readonly name: string | null;
  readonly parentId: string | null;
}

/** Last known state of a device, kept current by the pipeline. */
export interface DeviceState {
  readonly deviceId: string;
  readonly lastSeen: number | null;
  readonly status: 'never_seen' | 'online' | 'offline';
  readonly statusChangedAt: number | null;
  /** Latest value and its timestamp per measurement. */
  readonly latest: Readonly<Record<string, { value: number; ts: number }>>;
}

/** Registry of the hierarchy, people and devices. Reads are synchronous (hot path). */
export interface SiteStore {
  upsertStreet(s: Street): void;
  upsertCommunity(c: Community): void;
  upsertGrid(g: Grid): void;
  upsertBuilding(b: Building): void;
  upsertPerson(p: Person): void;
  streets(): Street[];
  communities(): Community[];
  grids(): Grid[];
  buildings(): Building[];
  building(id: string): Building | undefined;
  people(): Person[];

  /** Registers a device with its secret's hash; throws DeviceExistsError when the id is taken. */
  createDevice(device: NewDevice, secretHash: string, now: number): Device;
  /** Site-file provisioning: create or update placement; replaces the hash only when given. */
  upsertDevice(device: NewDevice, secretHash: string | null, now: number): Device;
  device(id: string): Device | undefined;
  devices(filter?: { buildingId?: string; kind?: string }): Device[];
  deviceSecretHash(id: string): string | undefined;
  setDeviceDisabled(id: string, disabled: boolean): void;

  saveDeviceStates(states: readonly DeviceState[]): void;
  deviceStates(): DeviceState[];
}

export class DeviceExistsError extends Error {
  constructor(readonly deviceId: string) {
    super(`device '${deviceId}' already exists`);
    this.name = 'DeviceExistsError';
  }
}

export const API_ROLES = ['admin', 'staff', 'captain', 'integrator'] as const;
export type ApiRole = (typeof API_ROLES)[number];

export interface ApiToken {
  readonly id: string;
  readonly name: string;
  readonly role: ApiRole;
  /** Hierarchy ids the token may see (buildings for captains, community/street for staff); empty = all. */
  readonly scope: readonly string[];
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly revoked: boolean;
}

/** API tokens, stored by the SHA-256 of the token (tokens are 256-bit random, so a fast hash suffices). */
export interface TokenStore {
  createToken(token: ApiToken, tokenHash: string): void;
  tokenByHash(tokenHash: string): ApiToken | undefined;
  tokens(): ApiToken[];
  revokeToken(id: string): void;
}

// ---------------------------------------------------------------------------------------------
// Alerts and notifications


export interface AlertQuery {
  readonly state?: AlertState | 'open';
  readonly signalClass?: string;
  readonly buildingIds?: readonly string[];
  readonly deviceId?: string;
  /** Raised at or after. */
  readonly since?: number;
  /** Keyset pagination: only alerts raised before this (id as tie-break), newest first. */
  readonly before?: { readonly raisedAt: number; readonly id: string };
  readonly limit: number;
}

/** Alerts with their history; open ones are reloaded at start so nothing is raised twice. */
export interface AlertStore {
  /** Upserts alerts (and their full history) in one transaction. */
  save(alerts: readonly Alert[]): void;
  get(id: string): Alert | undefined;
  list(query: AlertQuery): Alert[];
  /** Alerts not closed (state other than normal, or latched, shelved, disabled). */
  open(): Alert[];
  /** The rule engine's state (timers, windows, exposure), JSON, saved as one document. */
  saveRuleState(state: unknown): void;
  loadRuleState(): unknown;
}

/** A notification to one person about one alert; the outbox picks the channel and falls back. */
export interface NotificationRequest {
  readonly alertId: string | null;
  readonly personId: string;
  readonly personName: string;
  /** In the person's order of preference; the next is the fallback when one fails for good. */
  readonly channels: readonly NotificationChannel[];
  readonly title: string;
  /** Plain text (SMS, e-mail); markdown is used by WeCom/DingTalk when present. */
  readonly text: string;
  readonly markdown: string | null;
  /** Signed, expiring link that acknowledges the alert as this person. */
  readonly ackUrl: string | null;
  /** Alarm class: bypasses per-destination budgets, digests and quiet hours. */
  readonly lifeSafety: boolean;
  /** Same key, same notification: enqueueing twice (after a restart) sends once. */
  readonly dedupKey: string;
}

export interface NotificationReceipt {
  readonly id: string;
  readonly dedupKey: string;
  readonly alertId: string | null;
  readonly personId: string;
  readonly channel: NotificationChannel['type'] | null;
  readonly status: 'pending' | 'sent' | 'failed';
  readonly attempts: number;
  readonly createdAt: number;
  readonly sentAt: number | null;
  readonly lastError: string | null;
}

/** Durable: a request is persisted before enqueue() returns, and a restart loses none. */
export interface NotificationOutbox {
  enqueue(requests: readonly NotificationRequest[]): void;
  receipts(filter: { alertId?: string; personId?: string; limit: number }): NotificationReceipt[];
}

// ---------------------------------------------------------------------------------------------
// Driving ports: what the HTTP API calls into (implemented in app/).

export class AlertActionError extends Error {
  constructor(
    readonly code: 'not_found' | 'invalid_transition' | 'invalid_argument',
    message: string,
  ) {
    super(message);
    this.name = 'AlertActionError';
  }
}

/** A signed acknowledge link that is past its expiry (HTTP 410) or was not signed by this gateway (400). */
export class AckLinkError extends Error {
  constructor(
    readonly reason: 'expired' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'AckLinkError';
  }
}

/** What a valid acknowledge link names. */
export interface AckLinkPreview {
  readonly alert: Alert;
  readonly personId: string;
  readonly expiresAt: number;
}

/** Operator actions on alerts. Each throws AlertActionError; each is audited in the alert's history. */
export interface AlertService {
  list(query: AlertQuery): Alert[];
  get(id: string): Alert | undefined;
  acknowledge(id: string, actor: string, note: string | null): Alert;
  /** Timed shelve (ISA-18.2): auto-unshelves after durationS (at most the configured maximum, default 24 h). */
  shelve(id: string, actor: string, durationS: number, reason: string): Alert;
  unshelve(id: string, actor: string): Alert;
  /** 屏蔽 / out of service: a reason and an expiry are required. */
  disable(id: string, actor: string, reason: string, until: number): Alert;
  enable(id: string, actor: string): Alert;
  /** Ends a latched alert (fire, forced door) once its condition has cleared. */
  reset(id: string, actor: string, note: string | null): Alert;
  /**
   * Acknowledge through a signed link from a notification; the token names the alert and the person.
   * Throws AckLinkError for an expired or forged token, AlertActionError otherwise.
   */
  acknowledgeByLink(token: string): Alert;
  /**
   * Verifies a link without acting on it: the page a GET shows before the person confirms
   * (chat apps' link-preview bots fetch every link, so a GET must never acknowledge).
   * Throws like acknowledgeByLink.
   */
  previewAckLink(token: string): AckLinkPreview;
  receipts(alertId: string): NotificationReceipt[];
}

export class RuleConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`rule overrides are invalid: ${problems.join('; ')}`);
    this.name = 'RuleConfigError';
  }
}

export interface RuleService {
  effectiveRules(deviceId: string): EffectiveRules | undefined;
  /** Replaces the overrides at one level; throws RuleConfigError listing every problem. */
  setOverrides(scope: { readonly level: 'building' | 'device'; readonly id: string }, overrides: RuleOverrides, actor: string): void;
  overrides(scope: { readonly level: 'building' | 'device'; readonly id: string }): RuleOverrides;
}

// ---------------------------------------------------------------------------------------------
// Audit log: who did what through the API (domain.md §2 asks an audit record for 屏蔽; PIPL asks
// who read what). Never holds secrets or request bodies.

export type AuditOutcome = 'ok' | 'refused' | 'failed';

export interface NewAuditEntry {
  readonly at: number;
  /** Token id; null when the caller presented no valid token. */
  readonly actor: string | null;
  readonly role: ApiRole | null;
  /** Method and route pattern, e.g. 'POST /api/v1/alerts/:id/ack' (never the raw URL). */
  readonly action: string;
  /** The resource the route names (its :id), when it names one. */
  readonly target: string | null;
  readonly ip: string;
  /** HTTP status of the answer. */
  readonly status: number;
  /** ok: 2xx/3xx; refused: 401, 403, 429; failed: any other error. */
  readonly outcome: AuditOutcome;
}

export interface AuditEntry extends NewAuditEntry {
  readonly id: number;
}

export interface AuditQuery {
  readonly actor?: string;
  readonly action?: string;
  readonly outcome?: AuditOutcome;
  readonly target?: string;
  /** At or after (epoch ms). */
  readonly since?: number;
  /** Before (epoch ms). */
  readonly until?: number;
  /** Keyset pagination: only entries with an id below this, newest first. */
  readonly beforeId?: number;
  readonly limit: number;
}

export interface AuditLog {
  record(entry: NewAuditEntry): void;
  /** Newest first. */
  list(query: AuditQuery): AuditEntry[];
}

// ---------------------------------------------------------------------------------------------
// Grid cases (网格案件, domain.md §5–§6): driving port for the HTTP API, implemented by app/cases.ts.

export interface CaseQuery {
  readonly state?: import('./domain/cases/types.js').CaseState | 'open';
  readonly category?: string;
  readonly urgency?: import('./domain/cases/types.js').CaseUrgency;
  readonly gridId?: string;
  /** Undefined = all; [] = none. */
  readonly buildingIds?: readonly string[];
  /** With `now`: only cases with (true) or without (false) an unmet deadline past `now`. */
  readonly overdue?: boolean;
  readonly now?: number;
  /** Opened at or after. */
  readonly since?: number;
  /** Keyset pagination: only cases opened before this (id as tie-break), newest first. */
  readonly before?: { readonly openedAt: number; readonly id: string };
  readonly limit: number;
}

/** The last run of a scheduled job, kept so a restart catches a missed run up once. */
export interface JobRun {
  readonly name: string;
  /** The scheduled time the run was for (epoch ms). */
  readonly slot: number;
  readonly ranAt: number;
  readonly status: 'ok' | 'failed';
  readonly detail: string | null;
}

/** Case list, detail, transitions, KPIs and reports. Actions throw CaseActionError (domain/cases/types.ts). */
export interface CaseService {
  list(query: CaseQuery): import('./domain/cases/types.js').GridCase[];
  get(id: string): import('./domain/cases/types.js').GridCase | undefined;
  /** A case reported by a person (上报). */
  open(input: import('./domain/cases/types.js').NewCaseInput, actor: import('./domain/cases/types.js').CaseActor): import('./domain/cases/types.js').GridCase;
  act(id: string, request: import('./domain/cases/types.js').CaseTransitionRequest, actor: import('./domain/cases/types.js').CaseActor): import('./domain/cases/types.js').GridCase;
  /** Cases that may count in KPIs of [from, to) (filter by scope afterwards). */
  casesFor(from: number, to: number): import('./domain/cases/types.js').GridCase[];
  /** The business calendar reports count local periods on. */
  readonly calendar: import('./domain/cases/calendar.js').BusinessCalendar;
}
