// The case lifecycle as the console needs it: which transitions a signed-in token may offer on a
// case, and as which person-level role. A copy of the gateway's table
// (gateway/src/domain/cases/lifecycle.ts TRANSITIONS; a test keeps the two equal), because the
// console is plain browser files with no build step. The gateway still decides: a button shown
// here can be refused (another desk acted first), and the board shows the refusal.

const WORKER = ['grid_worker'];
const DISPATCHERS = ['community_staff', 'street_dispatcher'];
const IN_HAND = ['accepted', 'handling', 'rework'];

/** action → { from, to (null: the state stays), roles, note: a note is required, until: extendUntil is required } */
export const TRANSITIONS = {
  verify: { from: ['reported'], to: 'verifying', roles: WORKER },
  register: { from: ['verifying'], to: 'registered', roles: DISPATCHERS },
  cancel: { from: ['reported', 'verifying', 'registered'], to: 'cancelled', roles: DISPATCHERS, note: true },
  dispatch: { from: ['registered', 'returned'], to: 'dispatched', roles: DISPATCHERS },
  accept: { from: ['dispatched'], to: 'accepted', roles: WORKER },
  return: { from: ['dispatched'], to: 'returned', roles: WORKER, note: true },
  start: { from: ['accepted', 'rework'], to: 'handling', roles: WORKER },
  feedback: { from: ['handling'], to: 'feedback', roles: WORKER },
  check: { from: ['feedback'], to: 'checking', roles: DISPATCHERS },
  close: { from: ['checking'], to: 'closed', roles: DISPATCHERS },
  rework: { from: ['checking'], to: 'rework', roles: DISPATCHERS, note: true },
  evaluate: { from: ['closed'], to: 'evaluated', roles: DISPATCHERS },
  request_extension: { from: IN_HAND, to: null, roles: WORKER, note: true, until: true },
  approve_extension: { from: IN_HAND, to: null, roles: DISPATCHERS },
  reject_extension: { from: IN_HAND, to: null, roles: DISPATCHERS, note: true },
  park: { from: ['dispatched', ...IN_HAND], to: null, roles: DISPATCHERS, note: true },
  resume: { from: ['dispatched', ...IN_HAND], to: null, roles: DISPATCHERS },
};

/** Board columns, in lifecycle order (the final states last). */
export const STATE_ORDER = ['reported', 'verifying', 'registered', 'dispatched', 'returned', 'accepted', 'handling', 'feedback', 'checking', 'rework', 'closed', 'evaluated', 'cancelled'];

export const FINAL_STATES = ['cancelled', 'closed', 'evaluated'];

/** The roles of `caseRoles` (GET /me) that may take `action`: admin takes everything. */
export function rolesFor(action, caseRoles) {
  const rule = TRANSITIONS[action];
  if (!rule) return [];
  return caseRoles.filter((r) => r === 'admin' || rule.roles.includes(r));
}

/**
 * The transitions to offer on a case summary (as GET /cases lists it) to a token with
 * `caseRoles`: the state allows it, a parked case only resumes, one extension at a time, and the
 * token may act as at least one role the action allows.
 */
export function actionsFor(c, caseRoles) {
  const pending = c.extension !== null && c.extension !== undefined && c.extension.approved === null;
  const parked = c.parked !== null && c.parked !== undefined;
  return Object.keys(TRANSITIONS).filter((action) => {
    const rule = TRANSITIONS[action];
    if (!rule.from.includes(c.state)) return false;
    if (parked !== (action === 'resume')) return false;
    if (action === 'request_extension' && pending) return false;
    if ((action === 'approve_extension' || action === 'reject_extension') && !pending) return false;
    return rolesFor(action, caseRoles).length > 0;
  });
}

/** The request body's `asRole`: omitted for admin (the gateway records admin), else the role chosen. */
export function asRoleField(role) {
  return role === 'admin' || role === undefined || role === null || role === '' ? {} : { asRole: role };
}

/** The step deadline running now (the earliest unmet one), or null. */
export function runningDeadline(c) {
  let best = null;
  for (const [step, d] of Object.entries(c.deadlines ?? {})) {
    if (d === null || d.metAt !== null) continue;
    if (best === null || Date.parse(d.dueAt) < Date.parse(best.dueAt)) best = { step, dueAt: d.dueAt };
  }
  return best;
}

/** Overdue at `now`: an open case with an unmet step deadline passed (the API's `overdue`, kept current). */
export function isOverdue(c, now) {
  if (FINAL_STATES.includes(c.state)) return false;
  if (c.overdue === true) return true;
  const running = runningDeadline(c);
  return running !== null && Date.parse(running.dueAt) < now;
}
