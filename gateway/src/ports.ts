/**
 * Ports: what the gateway's core needs from the outside world. Adapters implement these; the
 * domain never imports an adapter. Each port has one conformance suite in tests/ that every
 * implementation runs.
 */
import type { DeviceEvent, Reading } from './domain/message.js';
import type { RejectionReason } from './domain/rejection.js';
import type { Building, Community, Device, Grid, Person, Street } from './domain/site.js';

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
