/**
 * A seeded generator of device messages for the fault suite: valid telemetry and events mixed
 * with malformed and hostile ones. Each message says what the gateway must do with it: accept it,
 * reject it in the pipeline with a given reason, or refuse it in the broker (which closes the
 * connection: MQTT 3.1.1 has no negative PUBACK). Same seed, same sequence.
 */
import type { RejectionReason } from '../../../gateway/src/domain/rejection.js';


export type Generated =
  | { readonly path: 'pipeline'; readonly topic: string; readonly payload: Buffer; readonly expect: 'accepted' | RejectionReason; readonly stored: 'reading' | 'event' | null; readonly category: string }
  | { readonly path: 'broker'; readonly topic: string; readonly payload: Buffer; readonly category: string };

interface DeviceState {
  seq: number;
  readonly recent: Buffer[];
}

const DAY_MS = 86_400_000;

/** Payloads nested this deep still fit in 64 KiB; deep enough to break a recursive serializer. */
function nested(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

export class HostileTraffic {
  private readonly state = new Map<string, DeviceState>();

  constructor(
    private readonly rng: () => number,
    /** Devices the generator may name as "another device" in spoofing topics. */
    private readonly others: readonly string[],
  ) {}

  /** The next message for `deviceId` (a smoke detector), about half of them valid. */
  next(deviceId: string, now: number): Generated {
    const s = this.stateOf(deviceId);
    const r = this.rng();
    const root = `gridwatch/v1/${deviceId}`;
    const telemetry = `${root}/telemetry`;
    const event = `${root}/event`;
    const json = (o: unknown) => Buffer.from(JSON.stringify(o));
    const text = (t: string) => Buffer.from(t);
    const pipeline = (category: string, topic: string, payload: Buffer, expect: 'accepted' | RejectionReason, stored: 'reading' | 'event' | null = null): Generated => ({
      path: 'pipeline',
      category,
      topic,
      payload,
      expect,
      stored,
    });

    if (r < 0.45) {
      const payload = json({ ts: now, seq: ++s.seq, temperature: Math.round((18 + this.rng() * 8) * 10) / 10 });
      s.recent.push(payload);
      if (s.recent.length > 8) s.recent.shift();
      return pipeline('valid telemetry', telemetry, payload, 'accepted', 'reading');
    }
    if (r < 0.5) return pipeline('valid event', event, json({ type: 'heartbeat', ts: now, seq: ++s.seq }), 'accepted', 'event');

    // Hostile and malformed, spread evenly over the cases below.
    const cases: Array<() => Generated> = [
      () => pipeline('broken JSON', telemetry, text(`{"temperature": ${this.int(100)}`), 'malformed_json'),
      () => pipeline('JSON not an object', telemetry, text(this.pick(['[1,2,3]', '42', '"text"', 'null', 'true'])), 'malformed_json'),
      () => pipeline('wrong type', telemetry, json({ seq: ++s.seq, temperature: this.pick(['hot', true, [20], { c: 20 }]) }), 'schema_violation'),
      () => pipeline('missing event type', event, json({ seq: ++s.seq }), 'schema_violation'),
      () => pipeline('empty telemetry', telemetry, text('{}'), 'schema_violation'),
      () => pipeline('huge number', telemetry, text(this.pick(['{"temperature":1e308}', '{"temperature":1e999}', '{"co":123456789012345678901234567890}', '{"temperature":20,"seq":1e300}'])), 'schema_violation'),
      () => pipeline('NaN/Infinity as string', telemetry, json({ temperature: this.pick(['NaN', 'Infinity', '-Infinity']) }), 'schema_violation'),
      () => pipeline('deep nesting in a measurement', telemetry, text(`{"temperature":${'['.repeat(20_000)}${']'.repeat(20_000)}}`), 'schema_violation'),
      () => pipeline('deep nesting in raw', event, text(`{"type":"heartbeat","seq":${++s.seq},"raw":${nested(10_000)}}`), 'schema_violation'),
      () => pipeline('prototype pollution', telemetry, text('{"temperature":20,"__proto__":{"admin":true}}'), 'schema_violation'),
      () => pipeline('invalid UTF-8', telemetry, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), 'invalid_utf8'),
      () => pipeline('timestamp far past', telemetry, json({ ts: now - 40 * DAY_MS, seq: ++s.seq, temperature: 20 }), 'timestamp_past'),
      () => pipeline('timestamp far future', telemetry, json({ ts: this.pick([now + 3_600_000, '2999-01-01T00:00:00Z']), seq: ++s.seq, temperature: 20 }), 'timestamp_future'),
      () => {
        const replay = s.recent[Math.floor(this.rng() * s.recent.length)];
        return replay === undefined
          ? pipeline('JSON not an object', telemetry, text('[]'), 'malformed_json')
          : pipeline('replayed seq', telemetry, replay, 'duplicate');
      },
      () => pipeline('deviceId of another device in the payload', telemetry, json({ deviceId: this.other(deviceId), seq: ++s.seq, temperature: 20 }), 'device_id_mismatch'),
      () => pipeline('unknown event type', event, json({ type: this.pick(['no.such.event', 'door.opened', '../../etc/passwd']), seq: ++s.seq }), 'schema_violation'),
      () => pipeline('bad status', `${root}/status`, text(this.pick(['maybe', '{"status":"rebooting"}', ''])), 'schema_violation'),
    ];
    // A few percent go to topics the broker refuses: each costs a connection.
    if (r > 0.995) {
      const topics = [
        `gridwatch/v1/${this.other(deviceId)}/telemetry`,
        'gridwatch/v1/+/telemetry',
        'gridwatch/v1/#',
        `${root}/../${this.other(deviceId)}/telemetry`,
        '../../../etc/passwd',
        '$SYS/broker/clients',
        `${root}/telemetry/extra/levels/a/b/c/d`,
        'gridwatch/v1/no-such-device/telemetry',
      ];
      const topic = this.pick(topics);
      if (this.rng() < 0.15) return { path: 'broker', category: 'oversize payload', topic: telemetry, payload: Buffer.alloc(70 * 1024, 0x20) };
      return { path: 'broker', category: 'topic outside the ACL', topic, payload: json({ temperature: 20 }) };
    }
    return this.pick(cases)();
  }

  private stateOf(deviceId: string): DeviceState {
    let s = this.state.get(deviceId);
    if (s === undefined) {
      s = { seq: 0, recent: [] };
      this.state.set(deviceId, s);
    }
    return s;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rng() * items.length)] as T;
  }

  private int(max: number): number {
    return Math.floor(this.rng() * max);
  }

  private other(deviceId: string): string {
    const others = this.others.filter((d) => d !== deviceId);
    return this.pick(others.length > 0 ? others : ['someone-else']);
  }
}
