/**
 * Overload: publishers at twice the sustainable rate. The gateway's memory must stay bounded and
 * everything it accepted must be stored. RSS of this process (which hosts the gateway; the
 * publishers are separate processes) is sampled every 250 ms.
 */
import { rmSync } from 'node:fs';
import { countStoredReadings } from './throughput.js';
import { round, settle, sleep, spawnPublisher, startGateway, type BenchDevice } from './common.js';

export interface OverloadResult {
  qos: 0 | 1;
  offeredRate: number;
  takenRate: number;
  seconds: number;
  /** RSS after the first second of load, MiB. */
  rssStartMiB: number;
  rssMaxMiB: number;
  /** Max RSS minus the RSS after the first second, MiB. */
  rssGrowthMiB: number;
  /** Mean RSS of the last third of the run minus that of the first third, MiB (a steady climb shows here). */
  rssDriftMiB: number;
  sent: number;
  accepted: number;
  stored: number;
  /** Dropped by the embedded sink's pending limit (counted, reported on /health). */
  sinkDropped: number;
}

export async function overload(devices: BenchDevice[], qos: 0 | 1, offeredRate: number, seconds: number, window: number): Promise<OverloadResult> {
  const { gw, dataDir } = await startGateway(devices);
  // abandon: the publishers' own backlog (MQTT.js queues what the socket cannot take) is theirs, not the gateway's.
  const pub = await spawnPublisher({ url: gw.mqttUrl(), devices, seconds, qos, window, rate: offeredRate, abandon: true });
  const samples: Array<{ t: number; rss: number }> = [];
  const t0 = performance.now();
  const sampler = setInterval(() => samples.push({ t: performance.now() - t0, rss: process.memoryUsage().rss / 2 ** 20 }), 250);
  const r0 = gw.pipeline.counts.received;
  const running = pub.go();
  await sleep(seconds * 1000);
  const taken = gw.pipeline.counts.received - r0;
  const publisher = await running;
  await settle(() => gw.pipeline.counts.received);
  clearInterval(sampler);
  const sinkDropped = (gw.sinks[0] as { dropped?: () => number }).dropped?.() ?? 0;
  await gw.stop();
  const stored = countStoredReadings(dataDir);
  rmSync(dataDir, { recursive: true, force: true });

  const loaded = samples.filter((s) => s.t >= 1000 && s.t <= seconds * 1000);
  const rssStart = loaded[0]?.rss ?? 0;
  const rssMax = Math.max(...samples.map((s) => s.rss));
  const third = Math.max(1, Math.floor(loaded.length / 3));
  const mean = (xs: typeof loaded): number => xs.reduce((a, s) => a + s.rss, 0) / Math.max(1, xs.length);
  return {
    qos,
    offeredRate: Math.round(offeredRate),
    takenRate: Math.round(taken / seconds),
    seconds,
    rssStartMiB: round(rssStart),
    rssMaxMiB: round(rssMax),
    rssGrowthMiB: round(rssMax - rssStart),
    rssDriftMiB: round(mean(loaded.slice(-third)) - mean(loaded.slice(0, third))),
    sent: publisher.sent,
    accepted: gw.pipeline.counts.accepted,
    stored,
    sinkDropped,
  };
}
