/**
 * The business calendar the SLA engine counts working time on (domain.md §5: deadlines are local,
 * counted in working hours / working days). A fixed UTC offset (China keeps no daylight saving),
 * working weekdays, working hours split by a lunch break, public holidays, and make-up working
 * days (调休: a Saturday or Sunday worked to bridge a holiday) as ISO dates.
 */
import type { TimeBasis } from './types.js';

export interface BusinessCalendarConfig {
  /** Minutes east of UTC; 480 for China Standard Time. */
  readonly utcOffsetMinutes: number;
  /** ISO weekdays that are working days (1 = Monday … 7 = Sunday). */
  readonly workingDays: readonly number[];
  /** Working periods of a working day, local 'HH:MM', in order and not overlapping. */
  readonly hours: ReadonlyArray<{ readonly start: string; readonly end: string }>;
  /** Local ISO dates (YYYY-MM-DD) that are not worked although their weekday is. */
  readonly holidays: readonly string[];
  /** Local ISO dates worked although their weekday is not (调休). */
  readonly workdays: readonly string[];
}

export const DEFAULT_CALENDAR: BusinessCalendarConfig = {
  utcOffsetMinutes: 480,
  workingDays: [1, 2, 3, 4, 5],
  hours: [
    { start: '09:00', end: '12:00' },
    { start: '13:30', end: '18:00' },
  ],
  holidays: [],
  workdays: [],
};

const MINUTE = 60_000;
const DAY = 86_400_000;
/** No SLA is longer than this; a calendar with no working time at all fails instead of looping. */
const MAX_DAYS_SCANNED = 3 * 366;

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Every problem with a calendar configuration, at once (empty when valid). */
export function validateCalendar(config: BusinessCalendarConfig): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(config.utcOffsetMinutes) || Math.abs(config.utcOffsetMinutes) > 14 * 60) problems.push('utcOffsetMinutes must be an integer within ±840');
  for (const d of config.workingDays) if (!Number.isInteger(d) || d < 1 || d > 7) problems.push(`workingDays: ${d} is not an ISO weekday 1–7`);
  let previousEnd = -1;
  for (const h of config.hours) {
    if (!HHMM.test(h.start) || !HHMM.test(h.end)) {
      problems.push(`hours: '${h.start}–${h.end}' is not HH:MM–HH:MM`);
      continue;
    }
    const s = minutesOf(h.start);
    const e = minutesOf(h.end);
    if (e <= s) problems.push(`hours: '${h.start}–${h.end}' ends before it starts`);
    if (s < previousEnd) problems.push(`hours: '${h.start}–${h.end}' overlaps or is out of order`);
    previousEnd = e;
  }
  if (config.hours.length === 0) problems.push('hours: at least one working period is needed');
  for (const d of [...config.holidays, ...config.workdays]) if (!ISO_DATE.test(d) || Number.isNaN(Date.parse(`${d}T00:00:00Z`))) problems.push(`'${d}' is not an ISO date YYYY-MM-DD`);
  for (const d of config.holidays) if (config.workdays.includes(d)) problems.push(`'${d}' is both a holiday and a make-up working day`);
  return problems;
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

export class BusinessCalendar {
  private readonly offsetMs: number;
  private readonly workingDays: ReadonlySet<number>;
  private readonly periods: ReadonlyArray<readonly [number, number]>;
  private readonly holidays: ReadonlySet<string>;
  private readonly workdays: ReadonlySet<string>;
  /** Working minutes in one full working day (7.5 h with the defaults): the unit of "working days". */
  readonly minutesPerDay: number;

  constructor(readonly config: BusinessCalendarConfig = DEFAULT_CALENDAR) {
    const problems = validateCalendar(config);
    if (problems.length > 0) throw new Error(`business calendar is invalid: ${problems.join('; ')}`);
    this.offsetMs = config.utcOffsetMinutes * MINUTE;
    this.workingDays = new Set(config.workingDays);
    this.periods = config.hours.map((h) => [minutesOf(h.start) * MINUTE, minutesOf(h.end) * MINUTE] as const);
    this.holidays = new Set(config.holidays);
    this.workdays = new Set(config.workdays);
    this.minutesPerDay = this.periods.reduce((sum, [s, e]) => sum + (e - s) / MINUTE, 0);
  }

  /** The local calendar date of an instant, YYYY-MM-DD. */
  localDate(t: number): string {
    return new Date(t + this.offsetMs).toISOString().slice(0, 10);
  }

  /** The instant local midnight starts the day holding `t`. */
  startOfLocalDay(t: number): number {
    return Math.floor((t + this.offsetMs) / DAY) * DAY - this.offsetMs;
  }

  isWorkingDay(t: number): boolean {
    const date = this.localDate(t);
    if (this.workdays.has(date)) return true;
    if (this.holidays.has(date)) return false;
    const weekday = new Date(t + this.offsetMs).getUTCDay() || 7;
    return this.workingDays.has(weekday);
  }

  /** Whether `t` falls inside working hours of a working day. */
  isWorkingTime(t: number): boolean {
    if (!this.isWorkingDay(t)) return false;
    const day = this.startOfLocalDay(t);
    return this.periods.some(([s, e]) => t >= day + s && t < day + e);
  }

  /**
   * The instant `minutes` working minutes after `start`. Time outside working hours does not
   * count: 30 working minutes from Friday 17:50 end at Monday 09:20 (with the defaults).
   */
  addWorkingTime(start: number, minutes: number): number {
    if (!(minutes >= 0) || !Number.isFinite(minutes)) throw new RangeError(`working minutes must be a finite number ≥ 0, got ${minutes}`);
    if (minutes === 0) return start;
    let remaining = minutes * MINUTE;
    let day = this.startOfLocalDay(start);
    for (let i = 0; i < MAX_DAYS_SCANNED; i++, day += DAY) {
      if (!this.isWorkingDay(day)) continue;
      for (const [s, e] of this.periods) {
        const from = Math.max(start, day + s);
        const to = day + e;
        if (from >= to) continue;
        if (remaining <= to - from) return from + remaining;
        remaining -= to - from;
      }
    }
    throw new RangeError(`the calendar has no ${minutes} working minutes within ${MAX_DAYS_SCANNED} days of ${new Date(start).toISOString()}`);
  }

  /** Working minutes between two instants (negative when b is before a). */
  workingMinutesBetween(a: number, b: number): number {
    if (b < a) return -this.workingMinutesBetween(b, a);
    let total = 0;
    for (let day = this.startOfLocalDay(a); day < b; day += DAY) {
      if (!this.isWorkingDay(day)) continue;
      for (const [s, e] of this.periods) {
        const from = Math.max(a, day + s);
        const to = Math.min(b, day + e);
        if (to > from) total += to - from;
      }
    }
    return total / MINUTE;
  }

  /** `start` plus a duration in the given basis: clock minutes, or working minutes on this calendar. */
  add(start: number, minutes: number, basis: TimeBasis): number {
    return basis === 'clock' ? start + minutes * MINUTE : this.addWorkingTime(start, minutes);
  }

  /** Minutes from a to b in the given basis. */
  between(a: number, b: number, basis: TimeBasis): number {
    return basis === 'clock' ? (b - a) / MINUTE : this.workingMinutesBetween(a, b);
  }
}
