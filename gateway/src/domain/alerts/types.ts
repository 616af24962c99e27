/**
 * The alert vocabulary shared by rules, the alert lifecycle, notifications, storage and the API.
 * States follow ISA-18.2 / IEC 62682 (domain.md §4).
 */
import type { AttributeValue } from '../message.js';
import type { SignalClass } from '../signal.js';

/**
 * normal → active_unack → active_ack → normal; active_unack → returned_unack (cleared before
 * anyone acknowledged) → normal on acknowledge. Latched alerts stay active until reset.
 */
export const ALERT_STATES = ['active_unack', 'active_ack', 'returned_unack', 'normal'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

/** Where an alert comes from: a device, or a building when a rule combines several devices. */
export interface AlertSource {
  readonly deviceId: string;
  readonly kind: string;
  readonly buildingId: string;
  readonly floor: number | null;
}

/**
 * What a rule decides about a condition: it started (raise) or it ended (clear). Rules never
 * create alerts themselves; the lifecycle turns signals into alerts, one per (device, type).
 */
export interface AlertSignal {
  readonly action: 'raise' | 'clear';
  readonly source: AlertSource;
  /** Alert type, stable and dotted: 'smoke.alarm', 'door.held_open', 'device.offline', 'co.exposure'. */
  readonly type: string;
  readonly signalClass: SignalClass;
  /** When the condition started or ended (device time when known). */
  readonly at: number;
  readonly title: string;
  readonly titleZh: string;
  /** Why, in words a building captain understands ("Smoke 0.15 dB/m on floor 3"). */
  readonly detail: string;
  readonly attrs?: Readonly<Record<string, AttributeValue>>;
  /** Latched alerts (fire, forced door) stay active until an operator resets them. */
  readonly latched?: boolean;
  /**
   * Alarm verification (NFPA 72 idea): 'verifying' while a single smoke alarm waits for
   * persistence or a second source; 'confirmed' once it has one. The captain is told at once
   * either way; verification only decides the escalation path.
   */
  readonly verification?: 'verifying' | 'confirmed';
  /** Suppressed by design when raised: e.g. the parent panel/NVR id while that parent is offline. */
  readonly suppressedBy?: string;
}

export interface AlertHistoryEntry {
  readonly at: number;
  /**
   * What happened: raised, repeated, reactivated (a return to alarm of an open alert), acknowledged,
   * cleared, returned, reset, shelved, unshelved, suppressed, unsuppressed, disabled, enabled,
   * escalated, case_due (escalation level 3), confirmed, chattering, chattering_ended, flood_held
   * (held for the building's flood digest), digest (notified in a digest).
   */
  readonly event: string;
  /** Person or token id for operator actions, 'system' otherwise. */
  readonly actor: string;
  readonly note: string | null;
}

export interface Alert {
  readonly id: string;
  readonly source: AlertSource;
  readonly type: string;
  readonly signalClass: SignalClass;
  readonly title: string;
  readonly titleZh: string;
  readonly detail: string;
  readonly attrs: Readonly<Record<string, AttributeValue>>;
  readonly state: AlertState;
  readonly latched: boolean;
  readonly verification: 'verifying' | 'confirmed' | null;
  readonly raisedAt: number;
  readonly lastSeenAt: number;
  /** Times the condition was raised again while this alert was open (repeats create no new alert). */
  readonly count: number;
  readonly clearedAt: number | null;
  readonly acknowledgedAt: number | null;
  readonly acknowledgedBy: string | null;
  /** Shelved by an operator until this time (auto-unshelve). */
  readonly shelvedUntil: number | null;
  /** Suppressed by design: parent offline, maintenance window. */
  readonly suppressedBy: string | null;
  /** 屏蔽 / out of service: reason, expiry and who, always audited. */
  readonly disabled: { readonly reason: string; readonly until: number; readonly by: string } | null;
  /** 0 = captains told; 1 = grid worker; 2 = community; 3 = grid case. */
  readonly escalationLevel: number;
  readonly nextEscalationAt: number | null;
  readonly chattering: boolean;
  readonly closedAt: number | null;
  readonly history: readonly AlertHistoryEntry[];
  /** History entries dropped to keep `history` bounded (the first entry, 'raised', is always kept). */
  readonly historyDropped?: number;
}

/** Who should be told, decided by the domain; the app resolves people and channels. */
export type Audience = 'captain' | 'grid_worker' | 'community' | 'street';

export interface NotificationIntent {
  readonly alertId: string;
  readonly audience: Audience;
  /** raised: first notice; escalated: nobody acknowledged in time; digest: a flood summarised. */
  readonly reason: 'raised' | 'escalated' | 'digest' | 'cleared' | 'confirmed';
  /** Alarm-class notifications take the life-safety lane: no budgets, digests or quiet hours. */
  readonly lifeSafety: boolean;
  /** For digests: the other alerts summarised in this one notification. */
  readonly relatedAlertIds?: readonly string[];
}

export interface AlertChange {
  readonly alert: Alert;
  /** The history entry this change added. */
  readonly event: string;
  readonly notify: readonly NotificationIntent[];
}
