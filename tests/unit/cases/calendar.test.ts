import { describe, expect, it } from 'vitest';
import { BusinessCalendar, DEFAULT_CALENDAR, validateCalendar } from '../../../gateway/src/domain/cases/calendar.js';
import { calendar, local } from './support.js';

describe('business calendar (UTC+8, Mon–Fri 09:00–12:00 and 13:30–18:00)', () => {
  const cal = calendar();

  it('has 7.5 working hours a day', () => {
    expect(cal.minutesPerDay).toBe(450);
  });

  it('adds working time inside a period, across the lunch break and from before opening', () => {
    expect(cal.addWorkingTime(local('2026-11-26 10:00'), 30)).toBe(local('2026-11-26 10:30'));
    expect(cal.addWorkingTime(local('2026-11-26 11:50'), 30)).toBe(local('2026-11-26 13:50'));
    expect(cal.addWorkingTime(local('2026-11-26 07:00'), 60)).toBe(local('2026-11-26 10:00'));
    expect(cal.addWorkingTime(local('2026-11-26 12:30'), 10)).toBe(local('2026-11-26 13:40'));
    expect(cal.addWorkingTime(local('2026-11-26 10:00'), 0)).toBe(local('2026-11-26 10:00'));
  });

  it('skips the weekend: 30 working minutes from Friday 17:50 end Monday 09:20', () => {
    expect(cal.addWorkingTime(local('2026-11-27 17:50'), 30)).toBe(local('2026-11-30 09:20'));
    expect(cal.addWorkingTime(local('2026-11-28 15:00'), 60)).toBe(local('2026-11-30 10:00'));
  });

  it('skips holidays and works make-up days (调休)', () => {
    const holidays = calendar({ holidays: ['2026-11-30'] });
    expect(holidays.addWorkingTime(local('2026-11-27 17:50'), 30)).toBe(local('2026-12-01 09:20'));
    const makeUp = calendar({ workdays: ['2026-11-28'] });
    expect(makeUp.addWorkingTime(local('2026-11-27 17:50'), 30)).toBe(local('2026-11-28 09:20'));
    expect(makeUp.isWorkingDay(local('2026-11-28 12:00'))).toBe(true);
    expect(holidays.isWorkingDay(local('2026-11-30 12:00'))).toBe(false);
  });

  it('three working days from Friday 17:00 end Wednesday 17:00, Thursday with Monday a holiday', () => {
    expect(cal.addWorkingTime(local('2026-11-27 17:00'), 3 * 450)).toBe(local('2026-12-02 17:00'));
    expect(calendar({ holidays: ['2026-11-30'] }).addWorkingTime(local('2026-11-27 17:00'), 3 * 450)).toBe(local('2026-12-03 17:00'));
  });

  it('counts working minutes between two instants, and is the inverse of addWorkingTime', () => {
    expect(cal.workingMinutesBetween(local('2026-11-27 17:00'), local('2026-11-30 10:00'))).toBe(120);
    expect(cal.workingMinutesBetween(local('2026-11-26 11:00'), local('2026-11-26 14:00'))).toBe(90);
    expect(cal.workingMinutesBetween(local('2026-11-26 14:00'), local('2026-11-26 11:00'))).toBe(-90);
    const start = local('2026-11-26 16:45');
    for (const m of [1, 75, 450, 1000, 2500]) expect(cal.workingMinutesBetween(start, cal.addWorkingTime(start, m))).toBeCloseTo(m, 6);
  });

  it('adds on the clock or on working time by basis', () => {
    const fri = local('2026-11-27 17:50');
    expect(cal.add(fri, 30, 'clock')).toBe(local('2026-11-27 18:20'));
    expect(cal.add(fri, 30, 'working')).toBe(local('2026-11-30 09:20'));
    expect(cal.between(fri, local('2026-11-30 09:20'), 'working')).toBe(30);
  });

  it('lists every problem with a configuration at once, and refuses to build from one', () => {
    const problems = validateCalendar({ ...DEFAULT_CALENDAR, workingDays: [0, 8], hours: [{ start: '18:00', end: '09:00' }], holidays: ['2026-13-45'] });
    expect(problems.length).toBeGreaterThanOrEqual(4);
    expect(() => new BusinessCalendar({ ...DEFAULT_CALENDAR, hours: [] })).toThrow(/invalid/);
    expect(() => cal.addWorkingTime(0, -1)).toThrow(RangeError);
    expect(() => new BusinessCalendar({ ...DEFAULT_CALENDAR, workingDays: [] }).addWorkingTime(0, 10)).toThrow(/no 10 working minutes/);
  });
});
