/**
 * Occupied hours in local time with a fixed UTC offset (China: +480, no DST).
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_OCCUPANCY,
  isOccupied,
  nextOccupancyChange,
  validateOccupancy,
  type OccupancySchedule,
} from '../../../gateway/src/domain/rules/occupancy.js';

/** China local time → epoch ms. */
const cst = (y: number, mo: number, d: number, h: number, mi = 0) => Date.UTC(y, mo - 1, d, h - 8, mi);

describe('occupancy', () => {
  it('default: 07:00 (inclusive) to 22:00 (exclusive) China time, every day', () => {
    expect(isOccupied(DEFAULT_OCCUPANCY, cst(2025, 6, 2, 6, 59))).toBe(false);
    expect(isOccupied(DEFAULT_OCCUPANCY, cst(2025, 6, 2, 7, 0))).toBe(true);
    expect(isOccupied(DEFAULT_OCCUPANCY, cst(2025, 6, 2, 21, 59))).toBe(true);
    expect(isOccupied(DEFAULT_OCCUPANCY, cst(2025, 6, 2, 22, 0))).toBe(false);
    // 01:00 China time is still the previous UTC day: the offset is applied before the weekday.
    expect(isOccupied(DEFAULT_OCCUPANCY, cst(2025, 6, 3, 1, 0))).toBe(false);
  });

  it('weekdays count from Sunday in local time', () => {
    const office: OccupancySchedule = {
      utcOffsetMinutes: 480,
      weekly: [[], [{ from: '08:30', to: '18:00' }], [{ from: '08:30', to: '18:00' }], [], [], [], []],
    };
    expect(isOccupied(office, cst(2025, 6, 2, 9))).toBe(true); // Monday
    expect(isOccupied(office, cst(2025, 6, 3, 9))).toBe(true); // Tuesday
    expect(isOccupied(office, cst(2025, 6, 4, 9))).toBe(false); // Wednesday
    expect(isOccupied(office, cst(2025, 6, 1, 9))).toBe(false); // Sunday
    expect(nextOccupancyChange(office, cst(2025, 6, 2, 9))).toBe(cst(2025, 6, 2, 18));
    expect(nextOccupancyChange(office, cst(2025, 6, 3, 19))).toBe(cst(2025, 6, 9, 8, 30));
  });

  it('next change of the default schedule', () => {
    expect(nextOccupancyChange(DEFAULT_OCCUPANCY, cst(2025, 6, 2, 10))).toBe(cst(2025, 6, 2, 22));
    expect(nextOccupancyChange(DEFAULT_OCCUPANCY, cst(2025, 6, 2, 23))).toBe(cst(2025, 6, 3, 7));
    const always: OccupancySchedule = { utcOffsetMinutes: 0, weekly: Array.from({ length: 7 }, () => [{ from: '00:00', to: '24:00' }]) };
    expect(nextOccupancyChange(always, 0)).toBeNull();
  });

  it('validates a schedule, listing every problem', () => {
    expect(validateOccupancy(DEFAULT_OCCUPANCY)).toEqual([]);
    expect(validateOccupancy({ utcOffsetMinutes: 1000, weekly: [[{ from: '25:00', to: '07:00' }], [{ from: '09:00', to: '08:00' }], [], [], [], [], 'x'] })).toEqual([
      'occupancy.utcOffsetMinutes must be an integer between -840 and 840',
      "occupancy.weekly[0][0].from must be 'HH:MM'",
      "occupancy.weekly[1][0]: 'to' must be after 'from' (split intervals at midnight)",
      'occupancy.weekly[6] must be a list of { from, to }',
    ]);
    expect(validateOccupancy(null)).toEqual(['occupancy must be an object { utcOffsetMinutes, weekly }']);
  });
});
