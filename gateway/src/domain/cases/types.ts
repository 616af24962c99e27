/**
 * The grid-case vocabulary (网格案件, domain.md §5) shared by the case book, the SLA engine, KPIs,
 * reports, storage and the API. Times are epoch milliseconds of the gateway's clock.
 */

/**
 * reported (上报) → verifying (核实) → registered (立案) | cancelled → dispatched (派遣) →
 * accepted (签收) | returned (回退, waits for a re-dispatch) → handling (处置) → feedback (反馈) →
 * checking (核查) → closed (结案) | rework (返工, back to handling) → evaluated (评价).
 * Extension (延期) and parking (挂账) are side records, not states: the case keeps its state.
 */
export const CASE_STATES = [
  'reported',
  'verifying',
  'registered',
  'cancelled',
  'dispatched',
  'returned',
  'accepted',
  'handling',
  'feedback',
  'checking',
  'rework',
  'closed',
  'evaluated',
] as const;
export type CaseState = (typeof CASE_STATES)[number];

/** States a case no longer needs anyone in (KPIs count closed and evaluated as closed). */
export const FINAL_STATES: ReadonlySet<CaseState> = new Set(['cancelled', 'closed', 'evaluated']);
export const CLOSED_STATES: ReadonlySet<CaseState> = new Set(['closed', 'evaluated']);

export const CASE_ACTIONS = [
  'verify',
  'register',
  'cancel',
  'dispatch',
  'accept',
  'return',
  'start',
  'feedback',
  'check',
  'close',
  'rework',
  'evaluate',
  'request_extension',
  'approve_extension',
  'reject_extension',
  'park',
  'resume',
] as const;
export type CaseAction = (typeof CASE_ACTIONS)[number];

/**
 * Who acts on a case, as a person-level role (domain.md §1). API tokens are admin or staff; the
 * role a staff token may take follows from its scope level (see case-roles.ts). 'system' is the
 * gateway itself (sensor-raised cases, SLA sweeps).
 */
export const CASE_ROLES = ['grid_worker', 'community_staff', 'street_dispatcher', 'admin', 'system'] as const;
export type CaseRole = (typeof CASE_ROLES)[number];

export interface CaseActor {
  /** Token id or person id; 'system' for the gateway. */
  readonly id: string;
  readonly role: CaseRole;
}

export const SYSTEM_ACTOR: CaseActor = { id: 'system', role: 'system' };

export const CASE_URGENCIES = ['urgent', 'normal'] as const;
export type CaseUrgency = (typeof CASE_URGENCIES)[number];

/** Categories are configurable strings; these are the defaults the policy uses. */
export const DEFAULT_CATEGORIES = ['fire', 'security', 'equipment_fault', 'camera_offline', 'battery', 'device_offline', 'other'] as const;

/** The SLA steps (domain.md §5): each has its own deadline and escalation ladder. */
export const CASE_STEPS = ['dispatch', 'accept', 'handle', 'check'] as const;
export type CaseStep = (typeof CASE_STEPS)[number];

/** Whether a duration counts on the wall clock or only inside the business calendar's hours. */
export type TimeBasis = 'clock' | 'working';

export interface StepDeadline {
  readonly startedAt: number;
  readonly dueAt: number;
  readonly basis: TimeBasis;
  /** When the step was done (dispatched, accepted, fed back, checked); null while running. */
  readonly metAt: number | null;
  /** 0 = not overdue yet; 1.. = overdue and escalated that many rungs up the ladder. */
  readonly overdueLevel: number;
  /** When the next overdue rung fires; null when met, void or at the top. */
  readonly nextEscalationAt: number | null;
}

export type CaseDeadlines = Readonly<Record<CaseStep, StepDeadline | null>>;

export interface CaseExtension {
  readonly requestedAt: number;
  readonly by: string;
  readonly reason: string;
  /** The disposal deadline asked for. */
  readonly until: number;
  /** null while the dispatcher has not decided. */
  readonly approved: boolean | null;
  readonly decidedAt: number | null;
  readonly decidedBy: string | null;
}

export interface CaseParking {
  readonly at: number;
  readonly by: string;
  readonly reason: string;
  /** What was left of each running step when parked: ms (clock) or working minutes. */
  readonly remaining: Readonly<Partial<Record<CaseStep, number>>>;
}

export interface CaseCounters {
  readonly returnCount: number;
  readonly reworkCount: number;
  readonly reopenCount: number;
  /** Approved extensions. */
  readonly extensionCount: number;
  /** Overdue rungs fired over the case's life. */
  readonly overdueCount: number;
}

export interface CaseHistoryEntry {
  readonly at: number;
  /** A CaseAction, or opened, linked, reopened, overdue, overdue_escalated. */
  readonly action: string;
  readonly actor: string;
  readonly role: CaseRole;
  readonly from: CaseState | null;
  readonly to: CaseState;
  readonly note: string | null;
  /** References only: URLs, alert ids, content hashes. Never the photo or file itself. */
  readonly evidence: readonly string[];
}

export interface GridCase {
  readonly id: string;
  /** Human-readable, unique: 'GW-20261126-0001' (local date of opening + sequence of the day). */
  readonly code: string;
  readonly state: CaseState;
  readonly category: string;
  readonly urgency: CaseUrgency;
  readonly buildingId: string;
  readonly gridId: string | null;
  readonly communityId: string | null;
  readonly streetId: string | null;
  readonly title: string;
  readonly description: string;
  readonly source: 'sensor' | 'manual';
  readonly alertIds: readonly string[];
  /** Person id of the handler (usually the building's grid worker 网格员). */
  readonly assignee: string | null;
  readonly openedAt: number;
  /** Latest entry into each state. */
  readonly times: Readonly<Partial<Record<CaseState, number>>>;
  /** First disposal (feedback) and whether it met the handle deadline then in force. */
  readonly disposal: { readonly at: number; readonly onTime: boolean } | null;
  readonly deadlines: CaseDeadlines;
  /** Due to be closed (应结时间): disposal deadline + check allowance; moved only by an approved extension. */
  readonly dueAt: number | null;
  /** When the latest alert was linked (the one-case-per-incident window slides on it). */
  readonly lastAlertAt: number | null;
  readonly extension: CaseExtension | null;
  readonly parked: CaseParking | null;
  readonly counters: CaseCounters;
  readonly history: readonly CaseHistoryEntry[];
  readonly updatedAt: number;
}

/** Where a building sits in the hierarchy (resolved by the app from the registry). */
export interface CasePlace {
  readonly buildingId: string;
  readonly gridId: string | null;
  readonly communityId: string | null;
  readonly streetId: string | null;
}

/** Who should hear about a case change; the app resolves people (and falls back up the hierarchy). */
export type CaseAudience = 'grid_worker' | 'community' | 'street';

export interface CaseNotice {
  readonly caseId: string;
  readonly audience: CaseAudience;
  /** A person to tell first (the assignee); the audience is the fallback when they cannot be told. */
  readonly personId: string | null;
  readonly reason: 'dispatched' | 'registered' | 'returned' | 'rework' | 'reopened' | 'overdue' | 'extension_requested' | 'extension_decided' | 'feedback';
  readonly lifeSafety: boolean;
  /** For overdue notices: which step. */
  readonly step?: CaseStep;
}

export interface CaseChange {
  readonly case: GridCase;
  /** The history entry this change added (its action). */
  readonly action: string;
  readonly notify: readonly CaseNotice[];
}

export interface CaseTransitionRequest {
  readonly action: CaseAction;
  readonly note?: string | null;
  readonly evidence?: readonly string[];
  /** dispatch: the handler's person id (default: the building's grid worker). */
  readonly assignee?: string | null;
  /** request_extension: the disposal deadline asked for (epoch ms). */
  readonly extendUntil?: number;
}

export interface NewCaseInput {
  readonly place: CasePlace;
  readonly category: string;
  readonly urgency: CaseUrgency;
  readonly title: string;
  readonly description: string;
  readonly evidence?: readonly string[];
  readonly alertIds?: readonly string[];
}

export type CaseErrorCode = 'not_found' | 'invalid_transition' | 'forbidden_role' | 'invalid_argument';

/** Every refusal of the case book: a stable code (mapped to HTTP by the API) and a message. */
export class CaseActionError extends Error {
  constructor(
    readonly code: CaseErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CaseActionError';
  }
}
