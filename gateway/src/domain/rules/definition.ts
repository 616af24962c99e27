/**
 * What a rule is: data (id, titles, a parameter schema with defaults, the events and measurements
 * it reads) plus pure step functions over a plain-JSON state. A rule never keeps a timer, never
 * reads a clock and never creates an alert: it answers with alert signals through its context and
 * says, through `wakeAt`, when it next needs to look at the time. The engine (engine.ts) owns the
 * states, the wake-up queue and the snapshot.
 */
import type { TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { AlertSource } from '../alerts/types.js';
import type { AttributeValue, Accepted } from '../message.js';
import type { KindDefinition } from '../kind.js';
import type { SignalClass } from '../signal.js';
import type { RuleParamValue } from './types.js';

export type RuleParams = Readonly<Record<string, RuleParamValue>>;

/** A fire/security alarm raised by some rule in the same building, kept briefly for corroboration. */
export interface BuildingAlarm {
  readonly deviceId: string;
  readonly kind: string;
  readonly floor: number | null;
  /** Alert type (the raising rule's id, or another type it emits). */
  readonly type: string;
  readonly ruleId: string;
  readonly at: number;
}

/** The state of a device's parent (panel, NVR, gateway) as the offline rule sees it. */
export interface ParentPresence {
  readonly id: string;
  readonly offline: boolean;
  /** When the parent last went offline or came back (gateway clock); null when never changed. */
  readonly changedAt: number | null;
}

/** The device a rule runs for, as placed in the registry. */
export interface RuleDevice {
  readonly id: string;
  readonly kind: string;
  readonly buildingId: string;
  readonly floor: number | null;
  readonly name: string | null;
  readonly parentId: string | null;
}

/** Everything but action and source, which the context fills in. */
export interface SignalInput {
  /** Defaults to the rule id. */
  readonly type?: string;
  /** Defaults to the rule's class. */
  readonly signalClass?: SignalClass;
  readonly at: number;
  /** Default to the rule's titles. */
  readonly title?: string;
  readonly titleZh?: string;
  readonly detail: string;
  readonly attrs?: Readonly<Record<string, AttributeValue>>;
  /** Defaults to the rule's `latched`. */
  readonly latched?: boolean;
  readonly verification?: 'verifying' | 'confirmed';
  readonly suppressedBy?: string;
}

/** Handed to every step of a rule: who, what settings, what time, and where signals go. */
export interface RuleContext<P = RuleParams> {
  readonly device: RuleDevice;
  readonly kind: KindDefinition;
  readonly source: AlertSource;
  /** Effective parameters (kind defaults, building and device overrides), already validated. */
  readonly params: P;
  /** Gateway clock (epoch ms) of this step: receive time of a message, or the tick time. */
  readonly now: number;
  /** When the gateway started (start-up grace for offline detection). */
  readonly startedAt: number;
  /** Whether the device's building is occupied at `at`, by its occupancy schedule. */
  occupied(at: number): boolean;
  /** The next time after `at` when the building's occupancy changes (null: never). */
  nextOccupancyChange(at: number): number | null;
  /** Alarms raised in the device's building at or after `since` (any device, any rule). */
  buildingAlarms(since: number): readonly BuildingAlarm[];
  /** The device's parent and whether it is offline; null when the device has no parent. */
  parent(): ParentPresence | null;
  raise(signal: SignalInput): void;
  clear(signal: SignalInput): void;
  /** "floor 3" or "building B1": where the device is, for details. */
  readonly where: string;
}

/**
 * A rule. `S` is its per-device state: plain JSON (numbers, strings, booleans, null, arrays,
 * objects), because the engine snapshots it. Steps may mutate the state they are given and
 * return it, or return a new one.
 *
 * Methods use method syntax on purpose: a `RuleDefinition<HeldOpenState>` can then sit in a
 * `readonly RuleDefinition[]` next to rules with other states.
 */
export interface RuleDefinition<S = unknown, P = RuleParams> {
  /** Stable, dotted; also the alert type, so there is one active alert per (device, rule). */
  readonly id: string;
  readonly title: string;
  readonly titleZh: string;
  /** One or two sentences for the API and the docs: what raises it and what clears it. */
  readonly description: string;
  /** The class of the alert it usually raises (door.held_open: supervisory or alarm by occupancy). */
  readonly signalClass: SignalClass;
  /** Latched alerts stay until an operator resets them, even after the condition clears. */
  readonly latched: boolean;
  /** Device event types this rule acts on (the kind conformance test checks coverage). */
  readonly handles: readonly string[];
  /** Measurements this rule reads from telemetry. */
  readonly reads: readonly string[];
  /** Alert types it emits besides its id (e.g. 'door.held_open.prewarning'). */
  readonly alsoEmits: readonly string[];
  /** TypeBox object schema of the parameters; every property required, additionalProperties false. */
  readonly paramSchema: TObject;
  readonly defaults: P;
  readonly enabledByDefault: boolean;
  /** Problems that span several parameters (e.g. a deadband wider than the level). */
  check(params: P): string[];
  /** A fresh state for a device seen for the first time (ctx.now: the first message or start-up). */
  initial(ctx: RuleContext<P>): S;
  onMessage(ctx: RuleContext<P>, state: S, accepted: Accepted): S;
  /** Called when `wakeAt` is due (ctx.now ≥ wakeAt). Optional for rules without timers. */
  onTimer?(ctx: RuleContext<P>, state: S): S;
  /** The next time the rule needs onTimer, or null. Never earlier work: may be recomputed at will. */
  wakeAt?(ctx: RuleContext<P>, state: S): number | null;
  /** Another rule in the same building raised an alarm (corroboration, e.g. smoke verification). */
  onBuildingAlarm?(ctx: RuleContext<P>, state: S, alarm: BuildingAlarm): S;
  /** The device's parent went offline or came back. */
  onParentChange?(ctx: RuleContext<P>, state: S, parent: ParentPresence): S;
}

export interface RuleSpec<S, P extends RuleParams> extends Omit<RuleDefinition<S, P>, 'alsoEmits' | 'enabledByDefault' | 'check' | 'reads' | 'handles'> {
  readonly handles?: readonly string[];
  readonly reads?: readonly string[];
  readonly alsoEmits?: readonly string[];
  readonly enabledByDefault?: boolean;
  check?(params: P): string[];
}

const RULE_ID = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

/**
 * Builds a rule and checks its declaration: a rule whose defaults break its own schema fails at
 * start-up, not at the first message.
 */
export function defineRule<S, P extends RuleParams>(spec: RuleSpec<S, P>): RuleDefinition<S, P> {
  const problems: string[] = [];
  if (!RULE_ID.test(spec.id)) problems.push(`id must match ${RULE_ID}`);
  if (!Value.Check(spec.paramSchema, spec.defaults)) {
    for (const e of Value.Errors(spec.paramSchema, spec.defaults)) problems.push(`default ${e.path}: ${e.message}`);
  }
  const definition: RuleDefinition<S, P> = {
    ...spec,
    handles: spec.handles ?? [],
    reads: spec.reads ?? [],
    alsoEmits: spec.alsoEmits ?? [],
    enabledByDefault: spec.enabledByDefault ?? true,
    check: spec.check ?? (() => []),
  };
  if (problems.length === 0) problems.push(...definition.check(spec.defaults));
  if (problems.length > 0) throw new Error(`rule '${spec.id}': ${problems.join('; ')}`);
  return Object.freeze(definition);
}

/** A rule as stored in a kind's list, whatever its state type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRule = RuleDefinition<any, any>;
