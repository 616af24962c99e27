/**
 * `npm run bench`: ingest throughput of the whole gateway against a do-nothing baseline on the same
 * broker and the same publishers, measured in one run, each figure the median of several
 * repetitions. Ratios matter more than absolute figures: these machines are shared and noisy.
 *
 * Options (env): BENCH_SECONDS (default 5), BENCH_REPS (3), BENCH_DEVICES (20), BENCH_WINDOW (64),
 * BENCH_LOAD_RATE (background messages/s during the latency run, 5000), BENCH_ALARMS (100).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer as createHttpServer } from 'node:http';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { loadConfig } from '../gateway/src/app/config.js';
import { createGateway } from '../gateway/src/app/gateway.js';
import { KINDS } from '../gateway/src/domain/kinds/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 20);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 64);
const LOAD_RATE = Number(process.env.BENCH_LOAD_RATE ?? 5000);
const ALARMS = Number(process.env.BENCH_ALARMS ?? 100);
const here = path.dirname(fileURLToPath(import.meta.url));

interface Device {
  id: string;
  kind: string;
  secret: string | null;
  telemetry: Record<string, unknown>;
}

function fleet(): Device[] {
  return Array.from({ length: DEVICES }, (_, i) => {
    const kind = KINDS[i % KINDS.length]!;
    const id = `bench-${kind.id}-${i}`;
    const sample = kind.sample.telemetry({ rng: mulberry(i), now: Date.now(), seq: 0, deviceId: id, state: {} });
    const { deviceId: _d, ts: _t, seq: _s, ...telemetry } = sample;
    return { id, kind: kind.id, secret: null, telemetry };
  });
}

function mulberry(seed: number): () => number {
  let a = seed + 0x6d2b79f5;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs the publisher process against `url`; `count()` reads how many the server has taken so far. */
async function drive(url: string, devices: Device[], qos: 0 | 1, count: () => number): Promise<{ rate: number; sent: number; received: number }> {
  const job = JSON.stringify({ url, devices, seconds: SECONDS, qos, window: WINDOW });
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'publisher.ts'), job], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  await new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (out.includes('ready')) {
        clearInterval(check);
        resolve();
      }
    }, 5);
    child.once('exit', (code) => reject(new Error(`publisher exited ${code}`)));
  });
  const c0 = count();
  const t0 = performance.now();
  child.stdin.write('go\n');
  const result = await new Promise<{ sent: number }>((resolve, reject) => {
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) reject(new Error(`publisher exited ${code}`));
      else resolve(JSON.parse(line) as { sent: number });
    });
  });
  // Let the server finish what is already on its sockets.
  let last = -1;
  while (count() !== last) {
    last = count();
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (performance.now() - t0) / 1000;
  const received = count() - c0;
  return { rate: received / seconds, sent: result.sent, received };
}

async function baseline(devices: Device[], qos: 0 | 1): Promise<number> {
  const broker = await Aedes.createBroker();
  let n = 0;
  broker.on('publish', (packet, client) => {
    if (client) n++;
  });
  const server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const { rate } = await drive(`mqtt://127.0.0.1:${port}`, devices, qos, () => n);
  await new Promise<void>((r) => broker.close(() => r()));
  await new Promise<void>((r) => server.close(() => r()));
  return rate;
}

async function pipeline(devices: Device[], qos: 0 | 1): Promise<{ rate: number; accepted: number; rejected: number; stored: number }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gridwatch-bench-'));
  const siteFile = path.join(dataDir, 'site.json');
  writeFileSync(
    siteFile,
    JSON.stringify({
      streets: [{ id: 's', code: '110105001', name: 'S', communities: [{ id: 'c', code: '110105001001', name: 'C', grids: [{ id: 'g', code: '11010500100101', name: 'G', buildings: [{ id: 'b', name: 'B', devices: devices.map((d) => ({ id: d.id, kind: d.kind, secret: `bench-secret-${d.id}` })) }] }] }] }],
    }),
  );
  const cfg = loadConfig({ GRIDWATCH_DATA_DIR: dataDir, GRIDWATCH_SITE_FILE: siteFile, GRIDWATCH_HTTP_PORT: '0', GRIDWATCH_MQTT_PORT: '0', GRIDWATCH_HTTP_HOST: '127.0.0.1', GRIDWATCH_MQTT_HOST: '127.0.0.1', GRIDWATCH_LOG_LEVEL: 'silent', GRIDWATCH_ADMIN_TOKEN: 'bench-admin-token-0123456789' });
  if (!cfg.ok) throw new Error(cfg.problems.join('; '));
  const gw = await createGateway({ config: cfg.config });
  await gw.start();
  const authed = devices.map((d) => ({ ...d, secret: `bench-secret-${d.id}` }));
  const { rate } = await drive(gw.mqttUrl(), authed, qos, () => gw.pipeline.counts.received);
  await Promise.all(gw.sinks.map((s) => s.flush()));
  const db = (await import('better-sqlite3')).default(path.join(dataDir, 'gridwatch.db'), { readonly: true });
  const stored = (db.prepare('SELECT count(DISTINCT device_id || char(0) || ts || char(0) || seq_key) AS n FROM readings').get() as { n: number }).n;
  db.close();
  const { accepted, rejected } = gw.pipeline.counts;
  await gw.stop();
  rmSync(dataDir, { recursive: true, force: true });
  return { rate, accepted, rejected, stored };
}

/** Starts the publisher process at a steady rate; resolves once it is connected and sending. */
async function backgroundLoad(url: string, devices: Device[], qos: 0 | 1, rate: number, seconds: number): Promise<{ done: Promise<{ sent: number }> }> {
  const job = JSON.stringify({ url, devices, seconds, qos, window: WINDOW, rate });
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'publisher.ts'), job], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  await new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (out.includes('ready')) {
        clearInterval(check);
        resolve();
      }
    }, 5);
    child.once('exit', (code) => reject(new Error(`publisher exited ${code}`)));
  });
  child.stdin.write('go\n');
  const done = new Promise<{ sent: number }>((resolve) => child.once('exit', () => resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as { sent: number })));
  return { done };
}

/**
 * Alert latency: publish of an alarm-class event to the notifier's HTTP call arriving at a real
 * webhook receiver, while a steady background load runs. Each alarm comes from a fresh detector
 * (one alert per device and type), one at a time.
 */
async function alertLatency(devices: Device[], qos: 0 | 1): Promise<{ p50: number; p99: number; max: number; n: number; rate: number }> {
  const arrivals: Array<(at: number) => void> = [];
  const receiver = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const at = performance.now();
      arrivals.shift()?.(at);
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const alarmIds = Array.from({ length: ALARMS }, (_, i) => `bench-alarm-${i}`);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gridwatch-bench-'));
  const siteFile = path.join(dataDir, 'site.json');
  const deviceEntries = [...devices.map((d) => ({ id: d.id, kind: d.kind, secret: `bench-secret-${d.id}` })), ...alarmIds.map((id) => ({ id, kind: 'smoke', secret: `bench-secret-${id}` }))];
  writeFileSync(
    siteFile,
    JSON.stringify({
      streets: [{ id: 's', code: '110105001', name: 'S', communities: [{ id: 'c', code: '110105001001', name: 'C', grids: [{ id: 'g', code: '11010500100101', name: 'G', buildings: [{ id: 'b', name: 'B', devices: deviceEntries }] }] }] }],
      people: [{ id: 'cap', name: 'Captain', role: 'captain', scope: ['b'], channels: [{ type: 'webhook', target: hook }] }],
    }),
  );
  const cfg = loadConfig({ GRIDWATCH_DATA_DIR: dataDir, GRIDWATCH_SITE_FILE: siteFile, GRIDWATCH_HTTP_PORT: '0', GRIDWATCH_MQTT_PORT: '0', GRIDWATCH_HTTP_HOST: '127.0.0.1', GRIDWATCH_MQTT_HOST: '127.0.0.1', GRIDWATCH_LOG_LEVEL: 'silent', GRIDWATCH_ADMIN_TOKEN: 'bench-admin-token-0123456789', GRIDWATCH_WEBHOOK_SECRET: 'bench-webhook-secret-0123456789' });
  if (!cfg.ok) throw new Error(cfg.problems.join('; '));
  const gw = await createGateway({ config: cfg.config });
  await gw.start();
  const alarmClients = await Promise.all(alarmIds.map((id) => mqtt.connectAsync(gw.mqttUrl(), { clientId: id, username: id, password: `bench-secret-${id}`, protocolVersion: 4, reconnectPeriod: 0 })));
  const seconds = Math.max(SECONDS, ALARMS * 0.05 + 5);
  const load = await backgroundLoad(gw.mqttUrl(), devices.map((d) => ({ ...d, secret: `bench-secret-${d.id}` })), qos, LOAD_RATE, seconds);
  const r0 = gw.pipeline.counts.received;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 1000)); // let the load settle
  const latencies: number[] = [];
  for (let i = 0; i < ALARMS; i++) {
    const arrived = new Promise<number>((resolve) => arrivals.push(resolve));
    const sentAt = performance.now();
    alarmClients[i]!.publish(`gridwatch/v1/${alarmIds[i]}/event`, JSON.stringify({ type: 'smoke.alarm', seq: 1 }), { qos });
    latencies.push((await arrived) - sentAt);
    await new Promise((r) => setTimeout(r, 20));
  }
  const rate = (gw.pipeline.counts.received - r0) / ((performance.now() - t0) / 1000);
  await load.done;
  await Promise.all(alarmClients.map((c) => c.endAsync()));
  await gw.stop();
  await new Promise<void>((r) => receiver.close(() => r()));
  rmSync(dataDir, { recursive: true, force: true });
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
  return { p50: round(pct(50)), p99: round(pct(99)), max: round(sorted[sorted.length - 1] ?? 0), n: latencies.length, rate: Math.round(rate) };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const devices = fleet();
  const rows: Array<Record<string, number | string>> = [];
  for (const qos of [0, 1] as const) {
    const base: number[] = [];
    const full: number[] = [];
    const accounting: string[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      base.push(await baseline(devices, qos));
      const r = await pipeline(devices, qos);
      full.push(r.rate);
      accounting.push(`${r.accepted}/${r.stored}/${r.rejected}`);
    }
    const b = median(base);
    const f = median(full);
    rows.push({ qos, baselineMsgsPerS: Math.round(b), pipelineMsgsPerS: Math.round(f), ratio: Number((f / b).toFixed(2)), acceptedStoredRejected: accounting.join(' ') });
  }
  console.table(rows);
  const latency: Array<Record<string, number | string>> = [];
  for (const qos of [0, 1] as const) {
    const l = await alertLatency(devices, qos);
    latency.push({ qos, backgroundMsgsPerS: l.rate, alarms: l.n, p50Ms: l.p50, p99Ms: l.p99, maxMs: l.max });
  }
  console.log('alert latency: publish of an alarm event → webhook request at the receiver');
  console.table(latency);
  const out = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    settings: { seconds: SECONDS, reps: REPS, devices: DEVICES, window: WINDOW, loadRate: LOAD_RATE, alarms: ALARMS },
    rows,
    latency,
  };
  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(path.join(here, 'results', 'latest.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`written bench/results/latest.json`);
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
