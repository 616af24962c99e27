/**
 * One full-pipeline run for a CPU profile of the gateway's process (the publishers are separate
 * processes and not in the profile):
 *
 *   node --cpu-prof --cpu-prof-dir=bench/results/profiles --import tsx bench/profile.ts [qos] [seconds]
 *
 * then open the .cpuprofile in Chrome DevTools (Performance) or summarise it with
 * `npx tsx bench/top.ts <file>`.
 */
import { rmSync } from 'node:fs';
import { drive, fleet, startGateway } from './common.js';

const qos = Number(process.argv[2] ?? 0) === 1 ? 1 : 0;
const seconds = Number(process.argv[3] ?? 5);
const devices = fleet(Number(process.env.BENCH_DEVICES ?? 20));
const { gw, dataDir } = await startGateway(devices);
const r = await drive({ url: gw.mqttUrl(), devices, seconds, qos, window: 64, abandon: qos === 0 }, () => gw.pipeline.counts.received);
console.log(JSON.stringify({ qos, rate: Math.round(r.rate), received: r.received, publisher: r.publisher }));
await gw.stop();
rmSync(dataDir, { recursive: true, force: true });
