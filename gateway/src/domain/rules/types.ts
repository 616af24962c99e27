/**
 * The rule engine's boundary. Rules are pure: they see accepted messages and the time, keep their
 * own state (timers, windows, exposure) as plain data, and answer with alert signals. Nothing here
 * sets a timer: the engine says when it next needs to be woken, and the app calls tick() then.
 */
import type { AlertSignal } from '../alerts/types.js';
import type { Accepted } from '../message.js';

export type RuleParamValue = number | string | boolean | readonly RuleParamValue[] | { readonly [key: string]: RuleParamValue };

/** One rule as it applies to one device, after kind defaults, building and device overrides. */
export interface RuleSetting {
  readonly id: string;
  readonly title: string;
  readonly enabled: boolean;
  readonly params: Readonly<Record<string, RuleParamValue>>;
  /** Where the effective values come from: the most specific level that set any of them. */
  readonly source: 'kind' | 'building' | 'device';
}

export interface EffectiveRules {
  readonly deviceId: string;
  readonly kind: string;
  readonly rules: readonly RuleSetting[];
}

/** Partial settings per rule id, as written in the site file or sent to the API. */
export type RuleOverrides = Readonly<Record<string, { readonly enabled?: boolean; readonly params?: Readonly<Record<string, RuleParamValue>> }>>;

export interface RuleEngine {
  /** An accepted message: returns the signals it causes now. */
  onAccepted(accepted: Accepted, now: number): AlertSignal[];
  /** Timers due at or before `now` (held-open, verification windows, offline detection). */
  tick(now: number): AlertSignal[];
  /** When tick() next has something to do; null when nothing is pending. */
  nextWakeAt(): number | null;
  /** Plain JSON state, saved by the app and handed back at start so timers resume. */
  snapshot(): unknown;
}

// Rule definitions and occupancy schedules, re-exported so callers of the engine need one import.
export type { AnyRule, BuildingAlarm, ParentPresence, RuleContext, RuleDefinition, RuleDevice, RuleParams, SignalInput } from './definition.js';
export type { OccupancySchedule, OccupiedInterval } from './occupancy.js';
