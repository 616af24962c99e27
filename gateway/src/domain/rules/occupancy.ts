/**
 * When a building is occupied: weekly occupied hours in local time plus a fixed UTC offset. China
 * has one time zone (UTC+8) and no daylight saving, so a fixed offset is exact there; elsewhere
 * set the offset the site uses. Pure arithmetic on epoch milliseconds: no Date, no time-zone data.
 *
 * Used by the held-open door rule: a door held open in occupied hours is supervisory (someone is
 * carrying furniture), outside them it is an alarm (domain.md §3, door access controller).
 */

/** Local wall-clock time 'HH:MM'; '24:00' is allowed as the end of a day. */
export type LocalTime = string;

export interface OccupiedInterval {
  /** Start, inclusive. */
  readonly from: LocalTime;
  /** End, exclusive; must be after `from` (an interval does not cross midnight: split it in two). */
  readonly to: LocalTime;
}

export interface OccupancySchedule {
  /** Minutes east of UTC: China Standard Time = +480. */
  readonly utcOffsetMinutes: number;
  /** Seven entries, Sunday first (0 = Sunday … 6 = Saturday), each the day's occupied intervals. */
  readonly weekly: readonly (readonly OccupiedInterval[])[];
}

/** China Standard Time. */
export const CHINA_UTC_OFFSET_MINUTES = 480;

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/**
 * Default for a residential building: occupied 07:00–22:00 every day, UTC+8. Outside these hours a
 * door held open is an alarm.
 */
export const DEFAULT_OCCUPANCY: OccupancySchedule = Object.freeze({
  utcOffsetMinutes: CHINA_UTC_OFFSET_MINUTES,
  weekly: Object.freeze(Array.from({ length: 7 }, () => Object.freeze([Object.freeze({ from: '07:00', to: '22:00' })]))),
});

const HHMM = /^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$/;

/** Minutes since local midnight, or null when malformed. */
export function parseLocalTime(t: LocalTime): number | null {
  if (typeof t !== 'string' || !HHMM.test(t)) return null;
  const [h, m] = t.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

/** Every problem with a schedule (for the site file and the API); empty when it is usable. */
export function validateOccupancy(value: unknown): string[] {
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null) return ['occupancy must be an object { utcOffsetMinutes, weekly }'];
  const s = value as Partial<Record<keyof OccupancySchedule, unknown>>;
  if (typeof s.utcOffsetMinutes !== 'number' || !Number.isInteger(s.utcOffsetMinutes) || Math.abs(s.utcOffsetMinutes) > 14 * 60) {
    problems.push('occupancy.utcOffsetMinutes must be an integer between -840 and 840');
  }
  if (!Array.isArray(s.weekly) || s.weekly.length !== 7) {
    problems.push('occupancy.weekly must list 7 days, Sunday first');
    return problems;
  }
  s.weekly.forEach((day: unknown, d) => {
    if (!Array.isArray(day)) {
      problems.push(`occupancy.weekly[${d}] must be a list of { from, to }`);
      return;
    }
    day.forEach((iv: unknown, i) => {
      const where = `occupancy.weekly[${d}][${i}]`;
      const from = parseLocalTime((iv as OccupiedInterval | null)?.from as LocalTime);
      const to = parseLocalTime((iv as OccupiedInterval | null)?.to as LocalTime);
      if (from === null) problems.push(`${where}.from must be 'HH:MM'`);
      if (to === null) problems.push(`${where}.to must be 'HH:MM' or '24:00'`);
      if (from !== null && to !== null && !(from < to)) problems.push(`${where}: 'to' must be after 'from' (split intervals at midnight)`);
    });
  });
  return problems;
}

/** Local day number (days since 1970-01-01 local) and minute of that day. */
function local(schedule: OccupancySchedule, at: number): { day: number; minute: number } {
  const t = at + schedule.utcOffsetMinutes * MINUTE_MS;
  const day = Math.floor(t / DAY_MS);
  return { day, minute: Math.floor((t - day * DAY_MS) / MINUTE_MS) };
}

/** 1970-01-01 was a Thursday (weekday 4, Sunday = 0). */
function weekday(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

function intervalsOf(schedule: OccupancySchedule, day: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const iv of schedule.weekly[weekday(day)] ?? []) {
    const from = parseLocalTime(iv.from);
    const to = parseLocalTime(iv.to);
    // A malformed interval counts as unoccupied: the safer side for a held-open door.
    if (from !== null && to !== null && from < to) out.push([from, to]);
  }
  return out;
}

export function isOccupied(schedule: OccupancySchedule, at: number): boolean {
  const { day, minute } = local(schedule, at);
  return intervalsOf(schedule, day).some(([from, to]) => minute >= from && minute < to);
}

/**
 * The first instant after `at` at which occupancy differs from occupancy at `at`, looking up to
 * eight days ahead; null when the schedule never changes (always or never occupied).
 */
export function nextOccupancyChange(schedule: OccupancySchedule, at: number): number | null {
  const now = isOccupied(schedule, at);
  const { day } = local(schedule, at);
  const offset = schedule.utcOffsetMinutes * MINUTE_MS;
  const candidates: number[] = [];
  for (let d = day; d <= day + 8; d++) {
    for (const [from, to] of intervalsOf(schedule, d)) {
      candidates.push(d * DAY_MS + from * MINUTE_MS - offset, d * DAY_MS + to * MINUTE_MS - offset);
    }
    candidates.push(d * DAY_MS - offset);
  }
  candidates.sort((a, b) => a - b);
  for (const c of candidates) {
    if (c > at && isOccupied(schedule, c) !== now) return c;
  }
  return null;
}
