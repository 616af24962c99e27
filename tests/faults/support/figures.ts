/**
 * Figures a fault test reports: what it tried, what the gateway accepted and rejected (by reason),
 * what the broker refused before the pipeline saw it, and the two numbers that must stay 0: lost
 * messages and crashes. Tests attach them to their task; the summary reporter adds them up.
 */
import type { TaskMeta } from 'vitest';

export interface FaultFigures {
  /** Short name of the scenario, printed in the summary. */
  readonly scenario: string;
  readonly tried: number;
  readonly accepted: number;
  readonly rejected: Readonly<Record<string, number>>;
  readonly refusedByBroker: Readonly<Record<string, number>>;
  /** HTTP requests refused (4xx), by what was refused and the status. */
  readonly refusedByApi: Readonly<Record<string, number>>;
  readonly lost: number;
  readonly crashes: number;
  /** Scenario-specific figures (durations, rates, duplicates), printed as they are. */
  readonly notes?: Readonly<Record<string, number | string>>;
}

declare module 'vitest' {
  interface TaskMeta {
    faultFigures?: FaultFigures[];
  }
}

/** Attaches figures to the running test (pass `task` from the test context). */
export function report(task: { meta: TaskMeta }, figures: Partial<FaultFigures> & { scenario: string }): FaultFigures {
  const full: FaultFigures = { tried: 0, accepted: 0, rejected: {}, refusedByBroker: {}, refusedByApi: {}, lost: 0, crashes: 0, ...figures };
  task.meta.faultFigures = [...(task.meta.faultFigures ?? []), full];
  return full;
}

export function sum(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

export function addTo(target: Record<string, number>, key: string, n = 1): void {
  target[key] = (target[key] ?? 0) + n;
}
