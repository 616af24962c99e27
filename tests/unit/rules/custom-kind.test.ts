/**
 * A kind written the way an integrator would (one file's worth of declaration) gets its rules run
 * by the engine with nothing else to register: here a water-leak sensor with a restore event.
 */
import { describe, expect, it } from 'vitest';
import { defineKind, type KindDefinition } from '../../../gateway/src/domain/kind.js';
import { alarm, battery, batteryPowered, heartbeat, info, sampleEvent, stamp } from '../../../gateway/src/domain/kinds/factories.js';
import type { Accepted } from '../../../gateway/src/domain/message.js';
import { createRuleEngine } from '../../../gateway/src/domain/rules/engine.js';
import { batteryLow, eventAlarm, eventSpec, offline } from '../../../gateway/src/domain/rules/factories.js';
import { device, S, T0 } from './harness.js';

const events = [alarm('leak.detected', 'Water leak', '漏水报警'), info('leak.cleared', 'Leak cleared', '漏水解除'), heartbeat()];
const contract = batteryPowered(3600);
const leakKind: KindDefinition = defineKind({
  id: 'water-leak',
  title: 'Water leak sensor',
  titleZh: '水浸传感器',
  description: 'Floor sensor for plant rooms.',
  measurements: [battery()],
  events,
  heartbeat: contract,
  sample: { telemetry: (ctx) => stamp(ctx, { battery: 90 }), event: (ctx) => sampleEvent(ctx, events) },
  rules: [eventAlarm(eventSpec(events, 'leak.detected'), { clearAfterS: 86_400, clearOn: ['leak.cleared'] }), batteryLow(), offline(contract)],
});

describe('a kind added by an integrator', () => {
  it('runs its rules: the leak holds until the sensor reports it cleared', () => {
    const d = device('WL1', 'water-leak', { floor: -1 });
    const engine = createRuleEngine({
      device: (id) => (id === d.id ? d : undefined),
      kind: (id) => (id === leakKind.id ? leakKind : undefined),
      rulesFor: () => undefined,
      occupancy: () => undefined,
      startedAt: T0,
    });
    const ev = (type: string, at: number): Accepted => ({
      channel: 'event',
      event: { deviceId: d.id, kind: d.kind, buildingId: d.buildingId, floor: d.floor, ts: at, receivedAt: at, seq: null, type, signalClass: 'info', attrs: {} },
    });
    const raised = engine.onAccepted(ev('leak.detected', T0), T0);
    expect(raised.map((s) => [s.action, s.type, s.signalClass, s.detail])).toEqual([['raise', 'leak.detected', 'alarm', 'Water leak, floor -1']]);
    expect(engine.onAccepted(ev('heartbeat', T0 + 60 * S), T0 + 60 * S)).toEqual([]);
    expect(engine.onAccepted(ev('leak.cleared', T0 + 120 * S), T0 + 120 * S).map((s) => [s.action, s.type])).toEqual([['clear', 'leak.detected']]);
  });
});
