/**
 * A simulated fleet: every device is its own MQTT client speaking the device contract
 * (gridwatch/v1/{deviceId}/telemetry|event|status), publishing its kind's samples on the kind's
 * heartbeat schedule, with seeded jitter so devices do not publish in lockstep.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { KindDefinition, SampleContext } from '../../gateway/src/domain/kind.js';
import { KINDS } from '../../gateway/src/domain/kinds/index.js';
import { DEVICE_ID_PATTERN } from '../../gateway/src/domain/site.js';
import { systemClock, type Clock } from '../../gateway/src/ports.js';
import { mulberry32, seedFor } from '../../gateway/src/domain/random.js';

export interface FleetDevice {
  readonly id: string;
  readonly kind: string;
  readonly secret: string;
}

export interface FleetOptions {
  readonly mqttUrl: string;
  readonly devices: readonly FleetDevice[];
  /** Telemetry and event period in simulated seconds (default: each kind's heartbeat interval). */
  readonly telemetryEverySeconds?: number;
  /** Time compression: 60 makes an hourly smoke heartbeat arrive every minute. Default 1. */
  readonly speed?: number;
  /** Run seed: the same seed replays the same samples and jitter. Default 1. */
  readonly seed?: number;
  /** QoS for telemetry (events are always QoS 1, as the device contract requires). Default 1. */
  readonly qos?: 0 | 1;
  /** ± fraction of every period, seeded, so devices drift apart (0–0.5). Default 0.1. */
  readonly jitter?: number;
  /** Device clock for payload timestamps and sample decay. Default: the system clock. */
  readonly clock?: Clock;
  readonly logger?: (line: string) => void;
  /** The kinds devices may name. Default: the registry. */
  readonly kinds?: readonly KindDefinition[];
}

export interface FleetStats {
  /** Devices whose MQTT connection is up now. */
  readonly connected: number;
  /** Telemetry and event messages the broker took (acknowledged, for QoS 1). */
  readonly published: number;
  /** Connection refusals, socket errors and failed publishes. */
  readonly errors: number;
}

export interface Fleet {
  /** Stops the schedules, says `offline` for every connected device and disconnects. */
  stop(): Promise<void>;
  stats(): FleetStats;
}

/** The first message of a device comes within this much real time, so a fleet ramps up quickly. */
const FIRST_MESSAGE_WITHIN_MS = 5_000;
/** ±10 % on every period by default: devices drift apart instead of publishing in lockstep. */
const DEFAULT_JITTER = 0.1;
const STOP_TIMEOUT_MS = 5_000;

export function statusTopic(deviceId: string): string {
  return `gridwatch/v1/${deviceId}/status`;
}

/** Connects every device and resolves once each has connected or failed its first attempt. */
export async function runFleet(options: FleetOptions): Promise<Fleet> {
  const kinds = new Map((options.kinds ?? KINDS).map((k) => [k.id, k]));
  const speed = options.speed ?? 1;
  const seed = options.seed ?? 1;
  const qos = options.qos ?? 1;
  const jitter = options.jitter ?? DEFAULT_JITTER;
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? (() => {});
  assertOptions(options, kinds, speed);

  let published = 0;
  let errors = 0;
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const devices: SimulatedDevice[] = [];

  function schedule(delayMs: number, run: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!stopped) run();
    }, delayMs);
    timers.add(timer);
  }

  const firstAttempts: Promise<void>[] = [];
  for (const device of options.devices) {
    const kind = kinds.get(device.kind) as KindDefinition;
    const rng = mulberry32(seedFor(seed, device.id));
    const state: Record<string, unknown> = {};
    let seq = 0;
    let lastError = '';

    const clientOptions: IClientOptions = {
      clientId: device.id,
      username: device.id,
      password: device.secret,
      protocolVersion: 4,
      // Clean sessions: a sensor subscribes to nothing, so a persistent session would only make
      // the broker keep state for every simulated id between runs. In-flight QoS 1 messages are
      // still re-sent by the client after a reconnect.
      clean: true,
      keepalive: 60,
      connectTimeout: 10_000,
      // Spread reconnects so a broker restart is not met by the whole fleet in the same second.
      reconnectPeriod: 1_000 + Math.floor(rng() * 2_000),
      // The retained Last Will is how the gateway learns of a device that vanished.
      will: { topic: statusTopic(device.id), payload: Buffer.from('offline'), qos: 1, retain: true },
    };
    const client = mqtt.connect(options.mqttUrl, clientOptions);
    devices.push({ id: device.id, client });

    const noteError = (what: string): void => {
      errors += 1;
      if (what !== lastError) log(`${device.id}: ${what}`);
      lastError = what;
    };

    firstAttempts.push(
      new Promise<void>((resolve) => {
        client.once('connect', () => resolve());
        client.once('close', () => resolve());
        client.once('error', () => resolve());
      }),
    );
    client.on('connect', () => {
      if (lastError !== '') log(`${device.id}: connected`);
      lastError = '';
      client.publish(statusTopic(device.id), 'online', { qos: 1, retain: true }, (err) => {
        if (err && !stopped) noteError(`status not published: ${err.message}`);
      });
    });
    client.on('error', (err) => noteError(err.message));

    const periodMs = ((options.telemetryEverySeconds ?? kind.heartbeat.intervalS) * 1000) / speed;
    const nextDelay = (): number => periodMs * (1 - jitter + 2 * jitter * rng());
    const context = (): SampleContext => ({ rng, now: clock.now(), seq: ++seq, deviceId: device.id, state });

    const publish = (channel: 'telemetry' | 'event', channelQos: 0 | 1): void => {
      // A device that is offline has nothing to send through; its samples for now are lost.
      if (client.connected) {
        const ctx = context();
        let payload: string;
        try {
          const body = channel === 'telemetry' ? kind.sample.telemetry(ctx) : kind.sample.event(ctx);
          payload = JSON.stringify({ ...body, ts: new Date(ctx.now).toISOString(), seq: ctx.seq });
        } catch (err) {
          // A broken sample generator costs one message, not the fleet.
          noteError(`${kind.id} ${channel} sample failed: ${(err as Error).message}`);
          schedule(nextDelay(), () => publish(channel, channelQos));
          return;
        }
        client.publish(`gridwatch/v1/${device.id}/${channel}`, payload, { qos: channelQos }, (err) => {
          if (!err) published += 1;
          else if (!stopped) noteError(`${channel} not published: ${err.message}`);
        });
      }
      schedule(nextDelay(), () => publish(channel, channelQos));
    };
    const firstWithin = Math.min(periodMs, FIRST_MESSAGE_WITHIN_MS);
    schedule(rng() * firstWithin, () => publish('telemetry', qos));
    schedule(rng() * firstWithin, () => publish('event', 1));
  }

  await Promise.all(firstAttempts);
  log(`fleet: ${devices.filter((d) => d.client.connected).length}/${devices.length} devices connected to ${options.mqttUrl}`);

  return {
    stats: () => ({ connected: devices.filter((d) => d.client.connected).length, published, errors }),
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.all(devices.map((d) => goOffline(d.client)));
    },
  };
}

interface SimulatedDevice {
  readonly id: string;
  readonly client: MqttClient;
}

/**
 * A clean shutdown sends DISCONNECT, which by [MQTT-3.14.4-3] discards the Last Will, so the
 * device says `offline` itself first. A device that cannot finish within the timeout is cut off.
 */
async function goOffline(client: MqttClient): Promise<void> {
  const clientId = client.options.clientId ?? '';
  const graceful = (async () => {
    if (client.connected) {
      await client.publishAsync(statusTopic(clientId), 'offline', { qos: 1, retain: true }).catch(() => undefined);
      await client.endAsync();
    } else {
      await client.endAsync(true);
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS);
  });
  const outcome = await Promise.race([graceful.then(() => 'done' as const), timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') await client.endAsync(true);
}

/** Bad options fail at once, all problems listed together. */
function assertOptions(options: FleetOptions, kinds: ReadonlyMap<string, KindDefinition>, speed: number): void {
  const problems: string[] = [];
  if (!(Number.isFinite(speed) && speed > 0)) problems.push(`speed must be a positive number, got ${speed}`);
  const every = options.telemetryEverySeconds;
  if (every !== undefined && !(Number.isFinite(every) && every > 0)) {
    problems.push(`telemetryEverySeconds must be positive, got ${every}`);
  }
  if (options.qos !== undefined && options.qos !== 0 && options.qos !== 1) problems.push(`qos must be 0 or 1`);
  const jitter = options.jitter;
  if (jitter !== undefined && !(Number.isFinite(jitter) && jitter >= 0 && jitter <= 0.5)) problems.push(`jitter must be 0…0.5, got ${jitter}`);
  const seen = new Set<string>();
  for (const d of options.devices) {
    if (!DEVICE_ID_PATTERN.test(d.id)) problems.push(`device id '${d.id}' is not a valid device id`);
    if (seen.has(d.id)) problems.push(`device id '${d.id}' appears twice`);
    seen.add(d.id);
    if (!kinds.has(d.kind)) problems.push(`device '${d.id}' has unknown kind '${d.kind}' (known: ${[...kinds.keys()].join(', ')})`);
  }
  if (problems.length > 0) throw new Error(`fleet options: ${problems.join('; ')}`);
}
