/**
 * Load generator, run as its own process so the gateway's core is measured, not the publishers.
 * Reads a job as JSON from argv[2]: { url, devices: [{id, secret, payload}], seconds, qos, window }.
 * Each device is one MQTT connection keeping at most `window` publishes in flight. Prints one JSON
 * line with what it sent.
 */
import mqtt, { type MqttClient } from 'mqtt';

interface Job {
  url: string;
  devices: Array<{ id: string; secret: string | null; telemetry: Record<string, unknown> }>;
  seconds: number;
  qos: 0 | 1;
  window: number;
  /** Messages per second across all devices; absent = as fast as the window allows. */
  rate?: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;

async function connect(d: Job['devices'][number]): Promise<MqttClient> {
  const client = mqtt.connect(job.url, {
    clientId: d.id,
    ...(d.secret ? { username: d.id, password: d.secret } : {}),
    protocolVersion: 4,
    reconnectPeriod: 0,
    clean: true,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/** A steady background load: every 10 ms each client sends its share of `rate`. */
async function steady(clients: MqttClient[], rate: number, end: number, done: (ok: boolean) => void, count: () => void): Promise<void> {
  const perTick = rate / 100 / clients.length;
  let credit = 0;
  const seqs = clients.map(() => 0);
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (Date.now() >= end) {
        clearInterval(timer);
        resolve();
        return;
      }
      credit += perTick;
      const n = Math.floor(credit);
      credit -= n;
      clients.forEach((client, i) => {
        const d = job.devices[i]!;
        const rest = JSON.stringify(d.telemetry).slice(1);
        for (let k = 0; k < n; k++) {
          seqs[i]!++;
          count();
          client.publish(`gridwatch/v1/${d.id}/telemetry`, `{"seq":${seqs[i]},"ts":${Date.now()},${rest}`, { qos: job.qos }, (err) => done(!err));
        }
      });
    }, 10);
  });
}

async function main(): Promise<void> {
  const clients = await Promise.all(job.devices.map(connect));
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  let sent = 0;
  let acked = 0;
  let errors = 0;
  const end = Date.now() + job.seconds * 1000;
  const started = Date.now();
  if (job.rate !== undefined) {
    await steady(clients, job.rate, end, (ok) => (ok ? acked++ : errors++), () => sent++);
  } else await Promise.all(
    clients.map(
      (client, i) =>
        new Promise<void>((resolve) => {
          const d = job.devices[i]!;
          const topic = `gridwatch/v1/${d.id}/telemetry`;
          const rest = JSON.stringify(d.telemetry).slice(1);
          let seq = 0;
          let inflight = 0;
          const pump = (): void => {
            while (inflight < job.window && Date.now() < end) {
              inflight++;
              sent++;
              seq++;
              client.publish(topic, `{"seq":${seq},"ts":${Date.now()},${rest}`, { qos: job.qos }, (err) => {
                inflight--;
                if (err) errors++;
                else acked++;
                if (Date.now() < end) setImmediate(pump);
                else if (inflight === 0) resolve();
              });
            }
            if (Date.now() >= end && inflight === 0) resolve();
          };
          pump();
        }),
    ),
  );
  const seconds = (Date.now() - started) / 1000;
  await Promise.all(clients.map((c) => c.endAsync()));
  process.stdout.write(`${JSON.stringify({ sent, acked, errors, seconds })}\n`);
  process.exit(0);
}

void main().catch((err: unknown) => {
  process.stderr.write(`publisher failed: ${String(err)}\n`);
  process.exit(1);
});
