/**
 * Builders for the case tests: a case book on the default policy and calendar (UTC+8, Mon–Fri
 * 09:00–12:00 and 13:30–18:00), alert changes as the alert book emits them, and local times.
 */
import { CaseBook, caseCode, type CaseBookOptions } from '../../../gateway/src/domain/cases/case-book.js';
import { BusinessCalendar, DEFAULT_CALENDAR, type BusinessCalendarConfig } from '../../../gateway/src/domain/cases/calendar.js';
import { DEFAULT_CASE_POLICY } from '../../../gateway/src/domain/cases/policy.js';
import type { CaseActor, CasePlace } from '../../../gateway/src/domain/cases/types.js';
import type { Alert, AlertChange } from '../../../gateway/src/domain/alerts/types.js';
import type { SignalClass } from '../../../gateway/src/domain/signal.js';
import { alertFixture } from '../../support/alert-fixture.js';

/** Local China time (UTC+8) as epoch ms: local('2026-11-26 10:00'). */
export function local(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}:00+08:00`);
}

export const MIN = 60_000;
export const HOUR = 3_600_000;

export const PLACE_B1: CasePlace = { buildingId: 'b1', gridId: 'g1', communityId: 'c1', streetId: 's1' };
export const PLACE_B2: CasePlace = { buildingId: 'b2', gridId: 'g1', communityId: 'c1', streetId: 's1' };
export const PLACE_B3: CasePlace = { buildingId: 'b3', gridId: 'g2', communityId: 'c2', streetId: 's1' };

export const WORKER: CaseActor = { id: 'tok-worker', role: 'grid_worker' };
export const COMMUNITY: CaseActor = { id: 'tok-community', role: 'community_staff' };
export const STREET: CaseActor = { id: 'tok-street', role: 'street_dispatcher' };

export function calendar(extra: Partial<BusinessCalendarConfig> = {}): BusinessCalendar {
  return new BusinessCalendar({ ...DEFAULT_CALENDAR, ...extra });
}

export function book(extra: Partial<CaseBookOptions> = {}): CaseBook {
  let n = 0;
  const cal = extra.calendar ?? calendar();
  const seqs = new Map<string, number>();
  return new CaseBook({
    policy: DEFAULT_CASE_POLICY,
    calendar: cal,
    newId: () => `case-${++n}`,
    newCode: (at) => {
      const day = cal.localDate(at);
      const seq = (seqs.get(day) ?? 0) + 1;
      seqs.set(day, seq);
      return caseCode(day, seq);
    },
    assigneeFor: (place) => (place.gridId === 'g1' ? 'worker-1' : null),
    ...extra,
  });
}

let alertSeq = 0;

export function alert(type: string, at: number, extra: { buildingId?: string; kind?: string; signalClass?: SignalClass; id?: string } = {}): Alert {
  alertSeq += 1;
  return alertFixture({
    id: extra.id ?? `al-${alertSeq}`,
    source: { deviceId: `dev-${extra.buildingId ?? 'b1'}`, kind: extra.kind ?? 'smoke', buildingId: extra.buildingId ?? 'b1', floor: 3 },
    type,
    signalClass: extra.signalClass ?? 'alarm',
    title: type,
    titleZh: type,
    detail: `${type} on floor 3`,
    attrs: {},
    raisedAt: at,
  });
}

export function changeOf(a: Alert, event: 'raised' | 'case_due' | 'acknowledged' = 'raised'): AlertChange {
  return { alert: a, event, notify: [] };
}
