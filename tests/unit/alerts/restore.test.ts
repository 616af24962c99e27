import { describe, expect, it } from 'vitest';
import { AlertBook } from '../../../gateway/src/domain/alerts/alert-book.js';
import { DEFAULT_ESCALATION_POLICY } from '../../../gateway/src/domain/alerts/escalation.js';
import type { Alert, AlertChange } from '../../../gateway/src/domain/alerts/types.js';
import { at, clear, raise, runClock, T0 } from './support.js';

function bookFrom(firstId: number, open?: readonly Alert[]): AlertBook {
  let n = firstId;
  return new AlertBook({ policy: DEFAULT_ESCALATION_POLICY, newId: () => `a${n++}`, ...(open ? { open } : {}) });
}

/** What the store does: serialise the open alerts, read them back. */
function roundTrip(book: AlertBook): Alert[] {
  return JSON.parse(JSON.stringify(book.open())) as Alert[];
}

const held = (n: number) => ({ deviceId: `door-${n}`, kind: 'door', type: 'door.held_open', signalClass: 'supervisory' as const });
const offline = { deviceId: 'cam-1', kind: 'camera', type: 'device.offline', signalClass: 'trouble' as const };

/** Before the restart: every kind of in-flight state the book keeps. */
function phaseOne(book: AlertBook): void {
  book.apply(raise(), T0); // a1 fire alarm, will be mid-escalation
  book.apply(raise({ deviceId: 'smoke-2', verification: 'verifying' }), at(5)); // a2 verifying
  book.apply(raise({ deviceId: 'door-x', kind: 'door', type: 'door.forced_open', latched: true }), at(6)); // a3 latched
  book.acknowledge('a3', 'captain-wang', null, at(7));
  book.apply(clear({ deviceId: 'door-x', kind: 'door', type: 'door.forced_open' }), at(8));
  book.apply(raise(offline), at(9)); // a4 trouble
  book.acknowledge('a4', 'grid-li', null, at(10));
  for (let n = 1; n <= 12; n++) book.apply(raise(held(n)), at(10 + n)); // a5..a16, the last two held for the digest
  book.shelve('a5', 'captain-wang', 900, 'delivery', at(30));
  book.disable('a6', 'admin', 'lock being replaced', at(5000), at(31));
  book.suppress('door-7', 'maintenance', at(32));
  // door-8 chatters: two activations now, the third will come after the restart.
  book.apply(clear(held(8)), at(50));
  book.apply(raise(held(8)), at(52));
  book.apply(clear(held(8)), at(54));
  book.tick(at(70)); // a1 at level 1 (grid worker told), community due at 180 s
}

/** After the restart: the same inputs must give the same answers. */
function phaseTwo(book: AlertBook): AlertChange[] {
  const out: AlertChange[] = [];
  out.push(...book.suppress('door-7', 'maintenance', at(71))); // the app re-applies suppressions at start
  out.push(...book.apply(raise(held(8)), at(75))); // third activation within 60 s (18, 52, 75): chattering
  out.push(...runClock(book, 76, 101));
  out.push(...book.apply(raise({ deviceId: 'smoke-2', verification: 'confirmed' }), at(102)));
  out.push(...runClock(book, 103, 700));
  out.push(book.reset('a3', 'captain-wang', null, at(701)));
  out.push(...book.unsuppress('door-7', at(702)));
  for (let t = 703; t <= 2 * 86_400; t += 60) out.push(...book.tick(at(t)));
  return out;
}

describe('restoring open alerts from storage', () => {
  it('continues exactly as a book that never stopped (JSON round trip of open())', () => {
    const original = bookFrom(1);
    phaseOne(original);
    const restored = bookFrom(17, roundTrip(original));
    expect(restored.open()).toEqual(original.open());
    expect(restored.nextWakeAt()).toBe(original.nextWakeAt());

    const expected = phaseTwo(original);
    const actual = phaseTwo(restored);
    expect(actual).toEqual(expected);
    expect(restored.open()).toEqual(original.open());

    // The run covered what it claims to: escalation, digest, chattering, expiries, the trouble case.
    const seen = new Set(expected.map((c) => c.event));
    for (const e of ['escalated', 'case_due', 'digest', 'chattering', 'confirmed', 'unshelved', 'enabled', 'unsuppressed', 'reset']) {
      expect(seen).toContain(e);
    }
  });

  it('a fire alarm restored mid-escalation tells the community at 180 s, not earlier or later', () => {
    const before = bookFrom(1);
    before.apply(raise(), T0);
    before.tick(at(60));
    const restored = bookFrom(2, roundTrip(before));
    expect(restored.get('a1')).toMatchObject({ escalationLevel: 1, nextEscalationAt: at(180) });
    const changes = runClock(restored, 61, 700);
    expect(changes.map((c) => [c.event, c.alert.history.at(-1)!.at])).toEqual([
      ['escalated', at(180)],
      ['case_due', at(600)],
    ]);
  });

  it('ignores alerts that were already closed', () => {
    const before = bookFrom(1);
    before.apply(raise(), T0);
    const closed = before.acknowledge('a1', 'captain-wang', null, at(1));
    const ended = before.apply(clear(), at(2))[0]!.alert;
    expect(closed.alert.closedAt).toBeNull();
    const restored = bookFrom(2, [ended]);
    expect(restored.open()).toEqual([]);
  });
});
