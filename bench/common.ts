/**
 * Shared pieces of the benchmark: the device fleet, a gateway in a temp data dir, the publisher
 * child process, and the statistics. Nothing here measures anything by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../gateway/src/app/config.js';
import { createGateway, type Gateway } from '../gateway/src/app/gateway.js';
import { KINDS } from '../gateway/src/domain/kinds/index.js';
import { mulberry32 } from '../gateway/src/domain/random.js';

export const here = path.dirname(fileURLToPath(import.meta.url));

export interface BenchDevice {
  id: string;
  kind: string;
  secret: string | null;
  /** One telemetry sample of the device's kind, without deviceId/ts/seq (the publisher adds those). */
  telemetry: Record<string, unknown>;
}

/** `count` devices, the four kinds in turn, each with a valid telemetry sample of its kind. */
export function fleet(count: number, prefix = 'bench'): BenchDevice[] {
  return Array.from({ length: count }, (_, i) => {
    const kind = KINDS[i % KINDS.length]!;
    const id = `${prefix}-${kind.id}-${i}`;
    const sample = kind.sample.telemetry({ rng: mulberry32(i), now: Date.now(), seq: 0, deviceId: id, state: {} });
    const { deviceId: _d, ts: _t, seq: _s, ...telemetry } = sample;
    return { id, kind: kind.id, secret: `bench-secret-${id}`, telemetry };
  });
}


export interface GatewayBench {
  gw: Gateway;
  dataDir: string;
}

/**
 * A whole gateway (embedded broker unless `env.GRIDWATCH_MQTT_URL`) in a fresh temp data dir, with
 * `devices` registered through a site file, on port 0 and silent.
 */
export async function startGateway(
  devices: ReadonlyArray<{ id: string; kind: string; secret: string | null }>,
  extra: { env?: Record<string, string>; people?: unknown[] } = {},
): Promise<GatewayBench> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gridwatch-bench-'));
  const siteFile = path.join(dataDir, 'site.json');
  const entries = devices.map((d) => ({ id: d.id, kind: d.kind, ...(d.secret ? { secret: d.secret } : {}) }));
  writeFileSync(
    siteFile,
    JSON.stringify({
      streets: [{ id: 's', code: '110105001', name: 'S', communities: [{ id: 'c', code: '110105001001', name: 'C', grids: [{ id: 'g', code: '11010500100101', name: 'G', buildings: [{ id: 'b', name: 'B', devices: entries }] }] }] }],
      ...(extra.people ? { people: extra.people } : {}),
    }),
  );
  const cfg = loadConfig({
    GRIDWATCH_DATA_DIR: dataDir,
    GRIDWATCH_SITE_FILE: siteFile,
    GRIDWATCH_HTTP_PORT: '0',
    GRIDWATCH_MQTT_PORT: '0',
    GRIDWATCH_HTTP_HOST: '127.0.0.1',
    GRIDWATCH_MQTT_HOST: '127.0.0.1',
    GRIDWATCH_LOG_LEVEL: 'silent',
    GRIDWATCH_ADMIN_TOKEN: 'bench-admin-token-0123456789',
    GRIDWATCH_WEBHOOK_SECRET: 'bench-webhook-secret-0123456789',
    ...extra.env,
  });
  if (!cfg.ok) throw new Error(cfg.problems.join('; '));
  const gw = await createGateway({ config: cfg.config });
  await gw.start();
  return { gw, dataDir };
}

export interface PublisherJob {
  url: string;
  devices: BenchDevice[];
  seconds: number;
  qos: 0 | 1;
  /** Publishes in flight per connection (QoS 1: unacknowledged; QoS 0: not yet written to the socket). */
  window: number;
  /** Messages per second across all devices; absent = as fast as the window allows. */
  rate?: number;
  /** TCP_NODELAY on the publishers' sockets (default true). */
  noDelay?: boolean;
  /**
   * At the end, reset the connections (TCP RST) instead of a clean DISCONNECT: what is still
   * buffered in the sockets is discarded rather than drained. Used for flat-out QoS 0, where the
   * kernel buffers hold seconds of messages the rate window has no use for.
   */
  abandon?: boolean;
}

export interface PublisherResult {
  sent: number;
  /** QoS 1: PUBACKs received; QoS 0: publishes handed to the socket. */
  acked: number;
  errors: number;
  seconds: number;
}

export interface Publisher {
  child: ChildProcess;
  /** Starts publishing; resolves with the publisher's own account once it has finished. */
  go(): Promise<PublisherResult>;
}

/** Spawns a publisher process and waits until all its connections are up. */
export async function spawnPublisher(job: PublisherJob): Promise<Publisher> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'publisher.ts'), JSON.stringify(job)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (out.includes('ready')) {
        clearInterval(check);
        resolve();
      }
    }, 5);
    void exited.then((code) => {
      clearInterval(check);
      reject(new Error(`publisher exited ${code} before it was ready`));
    });
  });
  return {
    child,
    go: async () => {
      child.stdin!.write('go\n');
      const code = await exited;
      if (code !== 0) throw new Error(`publisher exited ${code}`);
      return JSON.parse(out.trim().split('\n').pop() ?? '{}') as PublisherResult;
    },
  };
}

export interface DriveResult {
  /** Messages/s the server took in the measured window (after a warm-up second). */
  rate: number;
  /** Messages the server took from "go" until it settled. */
  received: number;
  publisher: PublisherResult;
}

/**
 * Runs one publisher process flat out against `url` for `job.seconds`; `count()` reads how many
 * messages the server side has taken so far. The rate is counted at the server over the window
 * [go + warm-up, end of sending], while every connection is saturated.
 */
export async function drive(job: PublisherJob, count: () => number, warmupS = 1): Promise<DriveResult> {
  const pub = await spawnPublisher(job);
  const c0 = count();
  let windowStart = { at: 0, n: 0 };
  let windowEnd = { at: 0, n: 0 };
  const running = pub.go();
  await sleep(warmupS * 1000);
  windowStart = { at: performance.now(), n: count() };
  await sleep((job.seconds - warmupS) * 1000);
  windowEnd = { at: performance.now(), n: count() };
  const publisher = await running;
  // Let the server finish what is already on its sockets.
  await settle(count);
  return { rate: (windowEnd.n - windowStart.n) / ((windowEnd.at - windowStart.at) / 1000), received: count() - c0, publisher };
}

/** Resolves once `count()` has not moved for `quietMs`. */
export async function settle(count: () => number, quietMs = 300): Promise<void> {
  let last = -1;
  while (count() !== last) {
    last = count();
    await sleep(quietMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function ratio(a: number, b: number): number {
  return b > 0 ? round(a / b, 2) : 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function rssMiB(): number {
  return round(process.memoryUsage().rss / 2 ** 20);
}
