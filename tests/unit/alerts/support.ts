/** Builders shared by the alert-book tests: signals in, a book with predictable ids. */
import { AlertActionError } from '../../../gateway/src/ports.js';
import { AlertBook, type AlertBookOptions } from '../../../gateway/src/domain/alerts/alert-book.js';
import { DEFAULT_ESCALATION_POLICY } from '../../../gateway/src/domain/alerts/escalation.js';
import type { AlertChange, AlertSignal, NotificationIntent } from '../../../gateway/src/domain/alerts/types.js';

/** Aligned to a 10-minute flood window, so window arithmetic in tests is plain. */
export const T0 = 1_800_000_000_000;
export const sec = (n: number): number => n * 1000;
export const at = (seconds: number): number => T0 + sec(seconds);

export interface SignalSpec extends Partial<Omit<AlertSignal, 'source'>> {
  deviceId?: string;
  buildingId?: string;
  kind?: string;
}

export function raise(spec: SignalSpec = {}): AlertSignal {
  const { deviceId = 'smoke-1', buildingId = 'b1', kind = 'smoke', ...rest } = spec;
  return {
    action: 'raise',
    source: { deviceId, kind, buildingId, floor: 3 },
    type: 'smoke.alarm',
    signalClass: 'alarm',
    at: T0,
    title: 'Smoke alarm',
    titleZh: '烟雾报警',
    detail: 'Smoke 0.15 dB/m on floor 3',
    ...rest,
  };
}

export function clear(spec: SignalSpec = {}): AlertSignal {
  return { ...raise(spec), action: 'clear', detail: spec.detail ?? 'Smoke cleared' };
}

export function newBook(options: Partial<AlertBookOptions> = {}): AlertBook {
  let n = 0;
  return new AlertBook({ policy: DEFAULT_ESCALATION_POLICY, newId: () => `a${++n}`, ...options });
}

export function intents(changes: readonly AlertChange[]): NotificationIntent[] {
  return changes.flatMap((c) => c.notify);
}

export function events(changes: readonly AlertChange[]): string[] {
  return changes.map((c) => c.event);
}

/** Ticks through [from, to] one second at a time and collects every change (fake time, no sleeps). */
export function runClock(book: AlertBook, fromS: number, toS: number): AlertChange[] {
  const out: AlertChange[] = [];
  for (let s = fromS; s <= toS; s++) out.push(...book.tick(at(s)));
  return out;
}

/** Ticks at every wake-up the book asks for up to `until`, as a scheduler would. */
export function advanceTo(book: AlertBook, until: number): AlertChange[] {
  const out: AlertChange[] = [];
  for (let wake = book.nextWakeAt(); wake !== null && wake <= until; wake = book.nextWakeAt()) out.push(...book.tick(wake));
  out.push(...book.tick(until));
  return out;
}

/** When a change happened: the time of the history entry it added. */
export function when(change: AlertChange): number {
  return change.alert.history[change.alert.history.length - 1]!.at;
}

/** Runs an action that must fail and returns the AlertActionError code it failed with. */
export function failureCode(action: () => unknown): string {
  try {
    action();
  } catch (e) {
    if (e instanceof AlertActionError) return e.code;
    throw e;
  }
  throw new Error('expected the action to fail');
}
