/**
 * What a device's message becomes once it has passed the ingest pipeline: typed, validated,
 * placed in the building hierarchy, timestamped. Sinks and rules only ever see these.
 */
import type { SignalClass } from './signal.js';

export const CHANNELS = ['telemetry', 'event', 'status'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * The grid-management levels above a building (street → community → grid), from the registry.
 * Each is absent when the registry does not know it (a building outside any loaded hierarchy).
 */
export interface HierarchyPlace {
  readonly gridId?: string;
  readonly communityId?: string;
  readonly streetId?: string;
}

/** Where a device stands, from the registry (never from the payload). */
export interface Placement extends HierarchyPlace {
  readonly deviceId: string;
  readonly kind: string;
  readonly buildingId: string;
  readonly floor: number | null;
}

/** One telemetry message: several measurements sharing one timestamp. */
export interface Reading extends Placement {
  /** Device clock (epoch ms); the gateway's clock when the device sent none. */
  readonly ts: number;
  readonly receivedAt: number;
  readonly seq: number | null;
  /** Measurement name → value; only measurements the kind declares. */
  readonly values: Readonly<Record<string, number>>;
}

export type AttributeValue = string | number | boolean;

/** One discrete event (alarm, access, fault, heartbeat). */
export interface DeviceEvent extends Placement {
  readonly ts: number;
  readonly receivedAt: number;
  readonly seq: number | null;
  readonly type: string;
  readonly signalClass: SignalClass;
  /** Kind-specific attributes (doorId, personRef, score…); vendor `raw` is kept as JSON text. */
  readonly attrs: Readonly<Record<string, AttributeValue>>;
}

export const DEVICE_STATUSES = ['online', 'offline'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

/** The retained status topic: 'online' on connect, 'offline' as the device's Last Will. */
export interface StatusReport extends Placement {
  readonly status: DeviceStatus;
  readonly receivedAt: number;
}

export type Accepted =
  | { readonly channel: 'telemetry'; readonly reading: Reading }
  | { readonly channel: 'event'; readonly event: DeviceEvent }
  | { readonly channel: 'status'; readonly status: StatusReport };
