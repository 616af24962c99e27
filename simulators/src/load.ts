/**
 * Load mode: a fixed aggregate rate of telemetry (msg/s) spread round-robin over the devices for
 * a fixed time, QoS 1 by default so every message is counted as acknowledged by the broker or not.
 * Payloads come from each kind's own sample generator, seeded, with an increasing seq per device.
 */
import type { KindDefinition, SampleContext } from '../../gateway/src/domain/kind.js';
import { KINDS } from '../../gateway/src/domain/kinds/index.js';
import { systemClock, type Clock } from '../../gateway/src/ports.js';
import { connectDevice, disconnect, type DeviceConnection } from './connection.js';
import type { FleetDevice } from './fleet.js';
import { mulberry32, seedFor } from '../../gateway/src/domain/random.js';

export interface LoadOptions {
  readonly mqttUrl: string;
  readonly devices: readonly FleetDevice[];
  /** Messages per second, all devices together. */
  readonly rate: number;
  readonly durationS: number;
  /** Default 1: the broker acknowledges each message, so `acked` means something. */
  readonly qos?: 0 | 1;
  readonly seed?: number;
  readonly kinds?: readonly KindDefinition[];
  /** Device clock for payload timestamps. */
  readonly clock?: Clock;
  /** Called about every `progressEveryMs` (default 1000) while the run lasts. */
  readonly onProgress?: (progress: LoadProgress) => void;
  readonly progressEveryMs?: number;
  readonly logger?: (line: string) => void;
}

export interface LoadProgress {
  readonly elapsedS: number;
  /** Messages handed to the MQTT client. */
  readonly sent: number;
  /** Messages the broker acknowledged (QoS 1) or that left the socket (QoS 0). */
  readonly acked: number;
  /** Refused connections and failed publishes. */
  readonly errors: number;
  readonly connected: number;
}

export interface LoadSummary extends LoadProgress {
  readonly devices: number;
  readonly targetRate: number;
  /** Acknowledged messages per second of sending time. */
  readonly achievedRate: number;
  /** Sent but neither acknowledged nor failed when the run gave up waiting. */
  readonly unacked: number;
}

/** Pacing step: messages owed since the start are sent every few ms, not in one burst per second. */
const STEP_MS = 10;
/** Stop adding while this many messages wait for their acknowledgement: the rate shows the limit. */
const MAX_IN_FLIGHT = 20_000;
const SETTLE_MS = 5_000;

export async function runLoad(options: LoadOptions): Promise<LoadSummary> {
  const kinds = new Map((options.kinds ?? KINDS).map((k) => [k.id, k]));
  const problems: string[] = [];
  if (!(Number.isFinite(options.rate) && options.rate > 0)) problems.push(`rate must be a positive number of messages per second, got ${options.rate}`);
  if (!(Number.isFinite(options.durationS) && options.durationS > 0)) problems.push(`duration must be positive, got ${options.durationS}`);
  if (options.devices.length === 0) problems.push('no devices');
  for (const d of options.devices) if (!kinds.has(d.kind)) problems.push(`device '${d.id}' has unknown kind '${d.kind}'`);
  if (problems.length > 0) throw new Error(`load options: ${problems.join('; ')}`);

  const log = options.logger ?? (() => {});
  const clock = options.clock ?? systemClock;
  const qos = options.qos ?? 1;
  const seed = options.seed ?? 1;
  let sent = 0;
  let acked = 0;
  let errors = 0;

  const attempts = await Promise.allSettled(options.devices.map((d) => connectDevice(options.mqttUrl, d)));
  const connections: DeviceConnection[] = [];
  for (const a of attempts) {
    if (a.status === 'fulfilled') connections.push(a.value);
    else {
      errors += 1;
      log((a.reason as Error).message);
    }
  }
  if (connections.length === 0) throw new Error(`load: none of the ${options.devices.length} devices could connect to ${options.mqttUrl}`);

  const senders = connections.map((c) => {
    const rng = mulberry32(seedFor(seed, c.device.id));
    const state: Record<string, unknown> = {};
    let seq = 0;
    return {
      c,
      kind: kinds.get(c.device.kind) as KindDefinition,
      next(): SampleContext {
        return { rng, now: clock.now(), seq: ++seq, deviceId: c.device.id, state };
      },
    };
  });

  const total = Math.floor(options.rate * options.durationS);
  const started = performance.now();
  const elapsedS = (): number => (performance.now() - started) / 1000;
  const progress = (): LoadProgress => ({ elapsedS: elapsedS(), sent, acked, errors, connected: connections.filter((c) => c.client.connected).length });
  let turn = 0;
  let sendingTookS = options.durationS;

  await new Promise<void>((resolve) => {
    const pace = setInterval(() => {
      const elapsed = elapsedS();
      const due = Math.min(total, Math.floor(elapsed * options.rate));
      while (sent < due && sent - acked - errors < MAX_IN_FLIGHT) {
        const sender = senders[turn++ % senders.length]!;
        if (!sender.c.client.connected) {
          // Counted, and the turn passes on: a dropped device must not stall the rest.
          sent += 1;
          errors += 1;
          continue;
        }
        const ctx = sender.next();
        let payload: string;
        try {
          payload = JSON.stringify({ ...sender.kind.sample.telemetry(ctx), ts: new Date(ctx.now).toISOString(), seq: ctx.seq });
        } catch (err) {
          sent += 1;
          errors += 1;
          log(`${sender.kind.id} telemetry sample failed: ${(err as Error).message}`);
          continue;
        }
        sent += 1;
        sender.c.client.publish(`gridwatch/v1/${sender.c.device.id}/telemetry`, payload, { qos }, (err) => {
          if (err) errors += 1;
          else acked += 1;
        });
      }
      if (elapsed >= options.durationS || sent >= total) {
        sendingTookS = Math.max(elapsed, 0.001);
        clearInterval(pace);
        clearInterval(report);
        resolve();
      }
    }, STEP_MS);
    const report = setInterval(() => options.onProgress?.(progress()), options.progressEveryMs ?? 1000);
  });

  // Acknowledgements still on their way back are waited for, a bounded time.
  const settleBy = performance.now() + SETTLE_MS;
  while (acked + errors < sent && performance.now() < settleBy) await new Promise((resolve) => setTimeout(resolve, 20));
  const final = progress();
  await Promise.all(connections.map((c) => disconnect(c)));
  return {
    ...final,
    connected: final.connected,
    devices: options.devices.length,
    targetRate: options.rate,
    achievedRate: acked / sendingTookS,
    unacked: Math.max(0, sent - acked - errors),
  };
}
