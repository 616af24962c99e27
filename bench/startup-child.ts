/**
 * Run in a fresh process by ./startup.ts: builds and starts a gateway on an existing data dir
 * (devices already registered) and prints one JSON line: start-up time and memory.
 * `node --import tsx bench/startup-child.ts <dataDir>`
 */
import { loadConfig } from '../gateway/src/app/config.js';
import { createGateway } from '../gateway/src/app/gateway.js';

const spawnedAt = Number(process.env.BENCH_SPAWNED_AT ?? 0);
const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: startup-child.ts <dataDir>');
const cfg = loadConfig({
  GRIDWATCH_DATA_DIR: dataDir,
  GRIDWATCH_HTTP_PORT: '0',
  GRIDWATCH_MQTT_PORT: '0',
  GRIDWATCH_HTTP_HOST: '127.0.0.1',
  GRIDWATCH_MQTT_HOST: '127.0.0.1',
  GRIDWATCH_LOG_LEVEL: 'silent',
  GRIDWATCH_ADMIN_TOKEN: 'bench-admin-token-0123456789',
});
if (!cfg.ok) throw new Error(cfg.problems.join('; '));
const rssBefore = process.memoryUsage().rss;
const t0 = performance.now();
const gw = await createGateway({ config: cfg.config });
await gw.start();
const startMs = performance.now() - t0;
const processMs = spawnedAt > 0 ? Date.now() - spawnedAt : null;
const devices = gw.site.devices().length;
const rss = process.memoryUsage().rss;
const heapUsed = process.memoryUsage().heapUsed;
await gw.stop();
process.stdout.write(
  `${JSON.stringify({ devices, startMs, processMs, rssMiB: rss / 2 ** 20, rssBeforeMiB: rssBefore / 2 ** 20, heapUsedMiB: heapUsed / 2 ** 20 })}\n`,
);
process.exit(0);
