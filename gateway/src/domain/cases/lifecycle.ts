/**
 * The case state machine as a table (domain.md §5, GB/T 30428 family): for each action, the
 * states it may start from, the state it leads to (null: the state stays, a side path), and the
 * person-level roles allowed to take it. admin and system may take every action.
 *
 * Who does what, following digital city management practice: the grid worker (网格员) verifies
 * on site, accepts or returns what is dispatched, handles it and reports back; the dispatchers
 * (社区 community staff, 街道 street dispatchers) register, dispatch, check, close or send back
 * for rework, decide extensions and park (挂账) what cannot be fixed in time.
 */
import type { CaseAction, CaseRole, CaseState } from './types.js';

export interface TransitionRule {
  readonly from: readonly CaseState[];
  readonly to: CaseState | null;
  readonly roles: readonly CaseRole[];
  readonly summary: string;
}

const WORKER: readonly CaseRole[] = ['grid_worker'];
const DISPATCHERS: readonly CaseRole[] = ['community_staff', 'street_dispatcher'];
/** States in which the handler is working on the case (extension and parking apply). */
const IN_HAND: readonly CaseState[] = ['accepted', 'handling', 'rework'];

export const TRANSITIONS: Readonly<Record<CaseAction, TransitionRule>> = {
  verify: { from: ['reported'], to: 'verifying', roles: WORKER, summary: 'go and verify on site (核实)' },
  register: { from: ['verifying'], to: 'registered', roles: DISPATCHERS, summary: 'register the case (立案)' },
  cancel: { from: ['reported', 'verifying', 'registered'], to: 'cancelled', roles: DISPATCHERS, summary: 'not a case (作废)' },
  dispatch: { from: ['registered', 'returned'], to: 'dispatched', roles: DISPATCHERS, summary: 'dispatch to a handler (派遣)' },
  accept: { from: ['dispatched'], to: 'accepted', roles: WORKER, summary: 'accept the dispatch (签收)' },
  return: { from: ['dispatched'], to: 'returned', roles: WORKER, summary: 'return a wrong dispatch (回退)' },
  start: { from: ['accepted', 'rework'], to: 'handling', roles: WORKER, summary: 'start handling (处置)' },
  feedback: { from: ['handling'], to: 'feedback', roles: WORKER, summary: 'report the result (反馈)' },
  check: { from: ['feedback'], to: 'checking', roles: DISPATCHERS, summary: 'check on site (核查)' },
  close: { from: ['checking'], to: 'closed', roles: DISPATCHERS, summary: 'close (结案)' },
  rework: { from: ['checking'], to: 'rework', roles: DISPATCHERS, summary: 'send back for rework (返工)' },
  evaluate: { from: ['closed'], to: 'evaluated', roles: DISPATCHERS, summary: 'evaluate (评价)' },
  request_extension: { from: IN_HAND, to: null, roles: WORKER, summary: 'ask for a later disposal deadline (延期申请)' },
  approve_extension: { from: IN_HAND, to: null, roles: DISPATCHERS, summary: 'approve the extension (延期批准)' },
  reject_extension: { from: IN_HAND, to: null, roles: DISPATCHERS, summary: 'reject the extension (延期驳回)' },
  park: { from: ['dispatched', ...IN_HAND], to: null, roles: DISPATCHERS, summary: 'park: cannot be fixed in time (挂账)' },
  resume: { from: ['dispatched', ...IN_HAND], to: null, roles: DISPATCHERS, summary: 'resume a parked case (恢复)' },
};

export function roleMayTake(role: CaseRole, action: CaseAction): boolean {
  return role === 'admin' || role === 'system' || TRANSITIONS[action].roles.includes(role);
}

/** The hierarchy level a staff token answers for, from its scope. */
export type ScopeLevel = 'all' | 'street' | 'community' | 'grid' | 'building';

/**
 * Person-level roles a token may act as. API tokens are admin or staff; a staff token's scope says
 * whose desk it sits at: a grid → the grid worker; a community → community staff, who may also
 * stand in for their grid workers; a street (or an unscoped staff token) → street dispatcher, who
 * may stand in for anyone below. A token scoped to mixed levels gets the highest. Captains and
 * integrators act on no case.
 */
export function rolesForToken(role: 'admin' | 'staff' | 'captain' | 'integrator', levels: readonly ScopeLevel[]): CaseRole[] {
  if (role === 'admin') return ['admin', 'street_dispatcher', 'community_staff', 'grid_worker'];
  if (role !== 'staff') return [];
  const top = levels.includes('all') || levels.length === 0 || levels.includes('street') ? 'street' : levels.includes('community') ? 'community' : levels.includes('grid') ? 'grid' : 'building';
  switch (top) {
    case 'street':
      return ['street_dispatcher', 'community_staff', 'grid_worker'];
    case 'community':
      return ['community_staff', 'grid_worker'];
    case 'grid':
      return ['grid_worker'];
    default:
      return [];
  }
}

/**
 * The role a request acts as: `asRole` when given (it must be one the token may take), otherwise
 * the first role the token may take that the action allows, so a grid worker's token never has to
 * say who it is. Undefined when the token may take no role allowed for the action.
 */
export function resolveActingRole(allowed: readonly CaseRole[], action: CaseAction, asRole: CaseRole | undefined): CaseRole | undefined {
  if (asRole !== undefined) return allowed.includes(asRole) && asRole !== 'system' ? asRole : undefined;
  if (allowed.includes('admin')) return 'admin';
  return allowed.find((r) => roleMayTake(r, action));
}
