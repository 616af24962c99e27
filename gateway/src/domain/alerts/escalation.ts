/**
 * Escalation policy (domain.md §4): the building captain is told at once; if nobody acknowledges
 * within T1 the grid worker is told, at T2 the community, and after that a grid case is due.
 *
 * A plan is a list of steps measured from one point, the escalation clock's start (the activation,
 * or the confirmation of a verifying alarm). Keeping every step relative to that one start means
 * an alert only has to carry its level and the due time of its next step (`nextEscalationAt`) for
 * escalation to resume exactly after a restart: the start is `nextEscalationAt − step.afterS`.
 */
import type { SignalClass } from '../signal.js';
import { SIGNAL_CLASSES } from '../signal.js';
import type { Alert, Audience } from './types.js';

/** 1 = grid worker (网格员), 2 = community (社区), 3 = grid case (立案) due. */
export type EscalationLevel = 1 | 2 | 3;

export interface EscalationStep {
  readonly level: EscalationLevel;
  /** Seconds after the escalation clock started. */
  readonly afterS: number;
  /**
   * What makes this step unnecessary. 'acknowledged': somebody acknowledging the alert (the usual
   * ISA-18.2 meaning of escalation). 'resolved': only the condition clearing; trouble alerts open
   * a case after 24 h unresolved whether or not somebody acknowledged them.
   */
  readonly until: 'acknowledged' | 'resolved';
}

export interface EscalationPlan {
  /** In order of level and time; an empty list never escalates. */
  readonly steps: readonly EscalationStep[];
}

/**
 * A plan for some alerts of a class, e.g. security alarms (door, face gate, camera login) which
 * get 2 min / 10 min instead of the fire alarm's 60 s / 180 s. It applies when `signalClass` (if
 * given) matches and the source kind is in `kinds` or the type starts with one of `typePrefixes`
 * (if either is given). The first matching override wins.
 */
export interface EscalationOverride {
  readonly name: string;
  readonly signalClass?: SignalClass;
  readonly kinds?: readonly string[];
  readonly typePrefixes?: readonly string[];
  readonly plan: EscalationPlan;
}

export interface EscalationPolicy {
  readonly byClass: Readonly<Record<SignalClass, EscalationPlan>>;
  readonly overrides?: readonly EscalationOverride[];
  /**
   * Alarm verification (NFPA 72 idea): a 'verifying' alarm starts its escalation clock when it is
   * confirmed, or this many seconds after it was raised at the latest, so a verification that
   * never concludes cannot stall a fire alarm. 0 = verifying alarms escalate like confirmed ones.
   * The captain is told at once in every case. Default 60 s.
   */
  readonly verificationHoldS?: number;
}

export const DEFAULT_VERIFICATION_HOLD_S = 60;

/** Who each level tells. Level 3 goes to the street office, which registers and dispatches cases. */
export const ESCALATION_AUDIENCE: Readonly<Record<EscalationLevel, Audience>> = {
  1: 'grid_worker',
  2: 'community',
  3: 'street',
};

function ackPlan(t1S: number, t2S: number, caseS: number): EscalationPlan {
  return {
    steps: [
      { level: 1, afterS: t1S, until: 'acknowledged' },
      { level: 2, afterS: t2S, until: 'acknowledged' },
      { level: 3, afterS: caseS, until: 'acknowledged' },
    ],
  };
}

/**
 * Product defaults (domain.md §4). T1/T2 are from the reference; the case steps of alarm and
 * supervisory plans are product choices ("a grid case after that"), configurable like the rest.
 */
export const DEFAULT_ESCALATION_POLICY: EscalationPolicy = {
  byClass: {
    alarm: ackPlan(60, 180, 600),
    supervisory: ackPlan(30 * 60, 4 * 3600, 24 * 3600),
    trouble: { steps: [{ level: 3, afterS: 24 * 3600, until: 'resolved' }] },
    info: { steps: [] },
  },
  overrides: [
    {
      name: 'security alarm',
      signalClass: 'alarm',
      kinds: ['door', 'face-gate', 'camera'],
      typePrefixes: ['door.', 'face.', 'access.'],
      plan: ackPlan(120, 600, 1800),
    },
  ],
  verificationHoldS: DEFAULT_VERIFICATION_HOLD_S,
};

type PlanSubject = Pick<Alert, 'signalClass' | 'type' | 'source'>;

function overrideMatches(o: EscalationOverride, a: PlanSubject): boolean {
  if (o.signalClass !== undefined && o.signalClass !== a.signalClass) return false;
  if (o.kinds === undefined && o.typePrefixes === undefined) return true;
  return (o.kinds?.includes(a.source.kind) ?? false) || (o.typePrefixes?.some((p) => a.type.startsWith(p)) ?? false);
}

export function escalationPlanFor(policy: EscalationPolicy, alert: PlanSubject): EscalationPlan {
  const override = policy.overrides?.find((o) => overrideMatches(o, alert));
  return override?.plan ?? policy.byClass[alert.signalClass];
}

type StepSubject = Pick<Alert, 'escalationLevel' | 'acknowledgedAt' | 'clearedAt' | 'verification'>;

function isLive(step: EscalationStep, a: StepSubject): boolean {
  // A verifying alarm that cleared before anything confirmed it was a nuisance (NFPA 72 alarm
  // verification): the captain was told, nobody else needs to be.
  if (a.verification === 'verifying' && a.clearedAt !== null) return false;
  return step.until === 'acknowledged' ? a.acknowledgedAt === null : a.clearedAt === null;
}

/** The next step this alert still has to take, if any. */
export function nextLiveStep(plan: EscalationPlan, a: StepSubject): EscalationStep | undefined {
  return plan.steps.find((s) => s.level > a.escalationLevel && isLive(s, a));
}

/** Every problem with a policy, so start-up can list them all at once. */
export function validateEscalationPolicy(policy: EscalationPolicy): string[] {
  const problems: string[] = [];
  const checkPlan = (where: string, plan: EscalationPlan | undefined): void => {
    if (plan === undefined || !Array.isArray(plan.steps)) {
      problems.push(`${where}: a plan with a list of steps is required`);
      return;
    }
    let prev: EscalationStep | undefined;
    for (const [i, s] of plan.steps.entries()) {
      if (![1, 2, 3].includes(s.level)) problems.push(`${where}.steps[${i}].level must be 1, 2 or 3`);
      if (!Number.isFinite(s.afterS) || s.afterS < 0) problems.push(`${where}.steps[${i}].afterS must be a number ≥ 0`);
      if (s.until !== 'acknowledged' && s.until !== 'resolved') problems.push(`${where}.steps[${i}].until must be 'acknowledged' or 'resolved'`);
      if (prev !== undefined && (s.level <= prev.level || s.afterS < prev.afterS)) {
        problems.push(`${where}.steps[${i}] must come after the step before it (higher level, not earlier)`);
      }
      prev = s;
    }
  };
  for (const c of SIGNAL_CLASSES) checkPlan(`byClass.${c}`, policy.byClass?.[c]);
  for (const [i, o] of (policy.overrides ?? []).entries()) {
    if (typeof o.name !== 'string' || o.name === '') problems.push(`overrides[${i}].name is required`);
    if (o.signalClass !== undefined && !SIGNAL_CLASSES.includes(o.signalClass)) problems.push(`overrides[${i}].signalClass is not a signal class`);
    checkPlan(`overrides[${i}].plan`, o.plan);
  }
  const hold = policy.verificationHoldS;
  if (hold !== undefined && (!Number.isFinite(hold) || hold < 0)) problems.push('verificationHoldS must be a number ≥ 0');
  return problems;
}
