/**
 * Case KPIs (domain.md §6) as one pure function over cases and a period [from, to), grouped by
 * grid, community or street. The formulas are spelled out in README.md; each one counts events
 * that happened inside the period, read from the cases' history and step records.
 */
import { CLOSED_STATES, FINAL_STATES, type GridCase } from './types.js';

export type KpiLevel = 'grid' | 'community' | 'street';

export interface CaseKpis {
  // Counts (the numerators and denominators, so every rate can be checked).
  readonly opened: number;
  readonly registered: number;
  readonly dispatches: number;
  readonly returns: number;
  readonly disposals: number;
  readonly onTimeDisposals: number;
  readonly due: number;
  readonly dueClosed: number;
  readonly dueClosedOnTime: number;
  readonly closed: number;
  readonly reworked: number;
  readonly firstTimeFixed: number;
  readonly extended: number;
  readonly overdueOpen: number;
  // Rates in [0, 1]; null when the denominator is 0.
  readonly registrationRate: number | null;
  readonly dispatchAccuracy: number | null;
  readonly onTimeDisposalRate: number | null;
  readonly closureRate: number | null;
  readonly onTimeClosureRate: number | null;
  readonly reworkRate: number | null;
  readonly firstTimeFixRate: number | null;
  readonly extensionRate: number | null;
  // Means in minutes of wall-clock time; null when nothing to average.
  readonly meanMinutesToDispatch: number | null;
  readonly meanMinutesToAccept: number | null;
  readonly meanMinutesToClose: number | null;
}

export interface KpiGroup {
  /** The grid, community or street id; 'unassigned' for cases whose building sits in no known hierarchy. */
  readonly id: string;
  readonly kpis: CaseKpis;
}

export interface KpiResult {
  readonly from: number;
  readonly to: number;
  readonly level: KpiLevel;
  readonly total: CaseKpis;
  readonly groups: readonly KpiGroup[];
}

const MINUTE = 60_000;

function ratio(n: number, d: number): number | null {
  return d === 0 ? null : n / d;
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

function firstAt(c: GridCase, action: string): number | null {
  return c.history.find((h) => h.action === action)?.at ?? null;
}

export function groupKey(c: GridCase, level: KpiLevel): string {
  const id = level === 'grid' ? c.gridId : level === 'community' ? c.communityId : c.streetId;
  return id ?? 'unassigned';
}

/** The KPIs of one set of cases over [from, to). */
export function kpisOf(cases: readonly GridCase[], from: number, to: number): CaseKpis {
  const inP = (t: number | null | undefined): t is number => t !== null && t !== undefined && t >= from && t < to;
  const opened = cases.filter((c) => inP(c.openedAt));
  const registered = opened.filter((c) => c.history.some((h) => h.action === 'register'));
  let dispatches = 0;
  let returns = 0;
  for (const c of cases) {
    for (const h of c.history) {
      if (!inP(h.at)) continue;
      if (h.action === 'dispatch') dispatches++;
      else if (h.action === 'return') returns++;
    }
  }
  const disposals = cases.filter((c) => inP(c.disposal?.at));
  const onTimeDisposals = disposals.filter((c) => c.disposal?.onTime === true);
  const isClosedBy = (c: GridCase, t: number) => CLOSED_STATES.has(c.state) && c.times.closed !== undefined && c.times.closed < t;
  const due = cases.filter((c) => inP(c.dueAt));
  const dueClosed = due.filter((c) => isClosedBy(c, to));
  const dueClosedOnTime = dueClosed.filter((c) => (c.times.closed ?? Infinity) <= (c.dueAt ?? -Infinity));
  const closed = cases.filter((c) => CLOSED_STATES.has(c.state) && inP(c.times.closed));
  const reworked = closed.filter((c) => c.counters.reworkCount > 0);
  const firstTimeFixed = closed.filter((c) => c.counters.reworkCount === 0 && c.counters.reopenCount === 0);
  const extended = closed.filter((c) => c.counters.extensionCount > 0);
  const overdueOpen = cases.filter(
    (c) => !FINAL_STATES.has(c.state) && c.openedAt < to && Object.values(c.deadlines).some((d) => d !== null && d.metAt === null && d.dueAt < to),
  );

  const toDispatch: number[] = [];
  const toAccept: number[] = [];
  for (const c of cases) {
    const dispatchedAt = firstAt(c, 'dispatch');
    if (inP(dispatchedAt)) toDispatch.push((dispatchedAt - c.openedAt) / MINUTE);
    const acceptedAt = firstAt(c, 'accept');
    if (inP(acceptedAt)) {
      // Accepting answers the dispatch just before it (after a return, the re-dispatch).
      const before = c.history.filter((h) => h.action === 'dispatch' && h.at <= acceptedAt).pop();
      if (before !== undefined) toAccept.push((acceptedAt - before.at) / MINUTE);
    }
  }
  const toClose = closed.map((c) => ((c.times.closed ?? c.openedAt) - c.openedAt) / MINUTE);

  return {
    opened: opened.length,
    registered: registered.length,
    dispatches,
    returns,
    disposals: disposals.length,
    onTimeDisposals: onTimeDisposals.length,
    due: due.length,
    dueClosed: dueClosed.length,
    dueClosedOnTime: dueClosedOnTime.length,
    closed: closed.length,
    reworked: reworked.length,
    firstTimeFixed: firstTimeFixed.length,
    extended: extended.length,
    overdueOpen: overdueOpen.length,
    registrationRate: ratio(registered.length, opened.length),
    dispatchAccuracy: dispatches === 0 ? null : 1 - returns / dispatches,
    onTimeDisposalRate: ratio(onTimeDisposals.length, disposals.length),
    closureRate: ratio(dueClosed.length, due.length),
    onTimeClosureRate: ratio(dueClosedOnTime.length, due.length),
    reworkRate: ratio(reworked.length, closed.length),
    firstTimeFixRate: ratio(firstTimeFixed.length, closed.length),
    extensionRate: ratio(extended.length, closed.length),
    meanMinutesToDispatch: mean(toDispatch),
    meanMinutesToAccept: mean(toAccept),
    meanMinutesToClose: mean(toClose),
  };
}

/** KPIs over [from, to), in total and per grid, community or street (groups sorted by id). */
export function computeKpis(cases: readonly GridCase[], period: { from: number; to: number }, level: KpiLevel): KpiResult {
  const byGroup = new Map<string, GridCase[]>();
  for (const c of cases) {
    const key = groupKey(c, level);
    const list = byGroup.get(key);
    if (list === undefined) byGroup.set(key, [c]);
    else list.push(c);
  }
  const groups = [...byGroup.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, list]) => ({ id, kpis: kpisOf(list, period.from, period.to) }));
  return { from: period.from, to: period.to, level, total: kpisOf(cases, period.from, period.to), groups };
}
