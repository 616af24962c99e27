/**
 * One alert fixture for every test that needs an Alert value: an active, unacknowledged smoke alarm
 * on floor 3 of building b1, raised at `raisedAt`. Tests override only what they are about.
 */
import type { Alert } from '../../gateway/src/domain/alerts/types.js';

export const FIXTURE_RAISED_AT = Date.UTC(2025, 5, 1, 11, 0, 0);

export function alertFixture(overrides: Partial<Alert> = {}): Alert {
  const raisedAt = overrides.raisedAt ?? FIXTURE_RAISED_AT;
  return {
    id: 'al-00001',
    source: { deviceId: 'smoke-b1-01', kind: 'smoke', buildingId: 'b1', floor: 3 },
    type: 'smoke.alarm',
    signalClass: 'alarm',
    title: 'Smoke alarm',
    titleZh: '烟感报警',
    detail: 'Smoke 0.15 dB/m on floor 3',
    attrs: { obscuration: 0.15 },
    state: 'active_unack',
    latched: false,
    verification: null,
    raisedAt,
    lastSeenAt: raisedAt,
    count: 1,
    clearedAt: null,
    acknowledgedAt: null,
    acknowledgedBy: null,
    shelvedUntil: null,
    suppressedBy: null,
    disabled: null,
    escalationLevel: 0,
    nextEscalationAt: null,
    chattering: false,
    closedAt: null,
    history: [{ at: raisedAt, event: 'raised', actor: 'system', note: null }],
    ...overrides,
  };
}
