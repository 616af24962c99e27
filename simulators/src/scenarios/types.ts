/**
 * The shape of a scenario: a short, declarative script of what some devices send and when, and
 * what the gateway is expected to do about it. A scenario names its devices by role ('detector',
 * 'neighbour'); the runner provisions one device per role and fills in ids, timestamps and seq.
 */
import type { SignalClass } from '../../../gateway/src/domain/signal.js';

/** Seconds (`2`), or a number with a unit: `'500ms'`, `'2s'`, `'1m'`, `'1m30s'`. */
export type Offset = number | `${number}${'ms' | 's' | 'm'}` | `${number}m${number}s`;

export interface ScenarioDevice {
  /** A registered kind id (gateway/src/domain/kinds). */
  readonly kind: string;
  /** Floor in the building; spread over the building's floors when absent. */
  readonly floor?: number;
  /** What the device stands for, shown by the CLI ("Smoke detector in the stairwell"). */
  readonly description: string;
}

interface StepBase {
  /** When, relative to the start of the scenario. Steps run in this order. */
  readonly at: Offset;
  /** What is happening, in words, printed by the CLI as the step runs. */
  readonly say?: string;
}

/** A telemetry message: measurement name → value (names the kind declares). */
export interface TelemetryStep extends StepBase {
  readonly device: string;
  readonly telemetry: Readonly<Record<string, number>>;
}

/** An event message: its type and the kind's event attributes. */
export interface EventStep extends StepBase {
  readonly device: string;
  readonly event: { readonly type: string } & Readonly<Record<string, string | number | boolean>>;
}

/**
 * The device's connection breaks without a DISCONNECT (power cut, cable pulled): the broker
 * publishes its Last Will, `offline` on its status topic ([MQTT-3.1.2-8]), and it sends nothing
 * more for the rest of the scenario.
 */
export interface DropStep extends StepBase {
  readonly device: string;
  readonly drop: true;
}

/** Time passes with nothing sent (a door left open, a detector waiting for confirmation). */
export interface WaitStep extends StepBase {
  readonly device?: undefined;
}

export type ScenarioStep = TelemetryStep | EventStep | DropStep | WaitStep;

export interface ExpectedAlert {
  /** Alert type (the rule id, or a type a rule also emits such as the held-open pre-warning). */
  readonly type: string;
  /** The class it is raised with; a list when it depends on the building's occupied hours. */
  readonly signalClass: SignalClass | readonly SignalClass[];
  /** The role of the device the alert is about. */
  readonly deviceRole: string;
}

export interface ScenarioExpectation {
  /** Every alert the scenario must raise; any other alert on its devices is a failure. */
  readonly alerts: readonly ExpectedAlert[];
  /**
   * Whether the alerts lead to a grid case if nobody acknowledges them. 'when-cases-exist': yes,
   * once the gateway has a case API (checked only where it does).
   */
  readonly caseOpened: boolean | 'when-cases-exist';
}

export interface Scenario {
  /** The name the CLI takes (`--scenario fire`). */
  readonly id: string;
  readonly title: string;
  /** What happens and why the gateway reacts as it does, in two or three sentences. */
  readonly description: string;
  readonly devices: Readonly<Record<string, ScenarioDevice>>;
  readonly steps: readonly ScenarioStep[];
  readonly expect: ScenarioExpectation;
}

/** Identity: kept as a function so scenario files read as declarations and get type checks. */
export function defineScenario(scenario: Scenario): Scenario {
  return Object.freeze(scenario);
}

const OFFSET = /^(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$|^(\d+(?:\.\d+)?)ms$/;

/** An offset in milliseconds; throws on text that is not one (scenarios are checked by a test). */
export function offsetMs(at: Offset): number {
  if (typeof at === 'number') {
    if (!Number.isFinite(at) || at < 0) throw new Error(`offset ${at} is not a number of seconds ≥ 0`);
    return Math.round(at * 1000);
  }
  const m = OFFSET.exec(at);
  if (m === null || (m[1] === undefined && m[2] === undefined && m[3] === undefined)) throw new Error(`offset '${at}' is not like 0, '500ms', '2s', '1m' or '1m30s'`);
  if (m[3] !== undefined) return Math.round(Number(m[3]));
  return Math.round((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 1000);
}

export function classesOf(expected: ExpectedAlert): readonly SignalClass[] {
  return typeof expected.signalClass === 'string' ? [expected.signalClass] : expected.signalClass;
}
