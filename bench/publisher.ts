/**
 * Load generator, run as its own process so the gateway's core is measured, not the publishers.
 * Reads a job as JSON from argv[2] (PublisherJob in ./common.ts), connects every device, prints
 * "ready", waits for a line on stdin, publishes, and prints one JSON line with its own account:
 * sent, acked (QoS 1: PUBACKs received; QoS 0: handed to the socket), errors.
 *
 * Each device is one MQTT connection keeping at most `window` publishes in flight. TCP_NODELAY is
 * set on the publishers' sockets unless the job says otherwise: with Nagle on, a lone alarm waits
 * for the previous segment's ACK (delayed ACK, up to 40 ms on Linux) and the latency figures would
 * measure the load generator's socket, not the gateway.
 */
import type { Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import type { PublisherJob } from './common.js';

const job = JSON.parse(process.argv[2] ?? '{}') as PublisherJob;

async function connect(d: PublisherJob['devices'][number]): Promise<MqttClient> {
  const client = mqtt.connect(job.url, {
    clientId: d.id,
    ...(d.secret ? { username: d.id, password: d.secret } : {}),
    protocolVersion: 4,
    reconnectPeriod: 0,
    clean: true,
    connectTimeout: 60_000,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  if (job.noDelay !== false) (client.stream as Partial<Socket>).setNoDelay?.(true);
  return client;
}

function payloadOf(d: PublisherJob['devices'][number]): (seq: number) => string {
  const rest = JSON.stringify(d.telemetry).slice(1);
  return (seq) => `{"seq":${seq},"ts":${Date.now()},${rest}`;
}

/** A steady load: every 10 ms each client sends its share of `rate`. */
async function steady(clients: MqttClient[], rate: number, end: number, done: (err?: Error) => void, sent: () => void): Promise<void> {
  const perTick = rate / 100 / clients.length;
  let credit = 0;
  const seqs = clients.map(() => 0);
  const payloads = job.devices.map(payloadOf);
  const started = Date.now();
  let ticks = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      if (Date.now() >= end) {
        resolve();
        return;
      }
      ticks++;
      credit += perTick;
      const n = Math.floor(credit);
      credit -= n;
      clients.forEach((client, i) => {
        const topic = `gridwatch/v1/${job.devices[i]!.id}/telemetry`;
        for (let k = 0; k < n; k++) {
          sent();
          client.publish(topic, payloads[i]!(++seqs[i]!), { qos: job.qos }, done);
        }
      });
      // Paced against the start, so timer drift does not lower the rate.
      setTimeout(tick, Math.max(0, started + ticks * 10 - Date.now()));
    };
    tick();
  });
}

async function main(): Promise<void> {
  const clients = await Promise.all(job.devices.map(connect));
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  let sent = 0;
  let acked = 0;
  let errors = 0;
  const done = (err?: Error): void => {
    if (err) errors++;
    else acked++;
  };
  const end = Date.now() + job.seconds * 1000;
  const started = Date.now();
  if (job.rate !== undefined) {
    await steady(clients, job.rate, end, done, () => sent++);
  } else {
    const flatOut = Promise.all(
      clients.map(
        (client, i) =>
          new Promise<void>((resolve) => {
            const topic = `gridwatch/v1/${job.devices[i]!.id}/telemetry`;
            const payload = payloadOf(job.devices[i]!);
            let seq = 0;
            let inflight = 0;
            const pump = (): void => {
              while (inflight < job.window && Date.now() < end) {
                inflight++;
                sent++;
                client.publish(topic, payload(++seq), { qos: job.qos }, (err) => {
                  inflight--;
                  done(err);
                  if (Date.now() < end) {
                    if (inflight === job.window - 1) setImmediate(pump);
                  } else if (inflight === 0) resolve();
                });
              }
              if (Date.now() >= end && inflight === 0) resolve();
            };
            pump();
          }),
      ),
    );
    // Abandoning: stop at the end of the period, not once the sockets have drained.
    await (job.abandon ? Promise.race([flatOut, new Promise((r) => setTimeout(r, Math.max(0, end - Date.now())))]) : flatOut);
  }
  if (job.abandon) {
    for (const c of clients) (c.stream as Partial<Socket>).resetAndDestroy?.();
  } else {
    // QoS 1: wait for the outstanding PUBACKs (endAsync waits for the in-flight store to empty).
    await Promise.all(clients.map((c) => c.endAsync()));
  }
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ sent, acked, errors, seconds })}\n`);
  process.exit(0);
}

void main().catch((err: unknown) => {
  process.stderr.write(`publisher failed: ${String(err)}\n`);
  process.exit(1);
});
