/**
 * Alert latency: from the publish of an alarm-class event to the notifier's webhook request
 * arriving at a real HTTP receiver, while a steady background load runs in a publisher process.
 * Each alarm comes from its own device (one alert per device and type), one at a time, so every
 * alarm opens a new alert and notifies the captain.
 */
import { rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import mqtt from 'mqtt';
import { percentile, round, sleep, spawnPublisher, startGateway, type BenchDevice } from './common.js';

export interface LatencySettings {
  window: number;
  loadRate: number;
  alarms: number;
  /** Gap between alarms, ms. */
  gapMs: number;
}

export interface LatencyResult {
  p50: number;
  p99: number;
  max: number;
  n: number;
  /** Background messages/s the gateway took while the alarms were measured. */
  backgroundRate: number;
}

export async function alertLatency(devices: BenchDevice[], qos: 0 | 1, s: LatencySettings): Promise<LatencyResult> {
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
  const alarmDevices = Array.from({ length: s.alarms }, (_, i) => ({ id: `bench-alarm-${i}`, kind: 'smoke', secret: `bench-secret-bench-alarm-${i}` }));
  const { gw, dataDir } = await startGateway([...devices, ...alarmDevices], {
    people: [{ id: 'cap', name: 'Captain', role: 'captain', scope: ['b'], channels: [{ type: 'webhook', target: hook }] }],
  });
  const alarmClients = await Promise.all(
    alarmDevices.map(async (d) => {
      const c = await mqtt.connectAsync(gw.mqttUrl(), { clientId: d.id, username: d.id, password: d.secret, protocolVersion: 4, reconnectPeriod: 0 });
      (c.stream as Partial<Socket>).setNoDelay?.(true);
      return c;
    }),
  );
  const seconds = Math.ceil((s.alarms * (s.gapMs + 5)) / 1000) + 3;
  const load = await spawnPublisher({ url: gw.mqttUrl(), devices, seconds, qos, window: s.window, rate: s.loadRate });
  const done = load.go();
  await sleep(1000); // let the load settle
  const r0 = gw.pipeline.counts.received;
  const t0 = performance.now();
  const latencies: number[] = [];
  for (let i = 0; i < s.alarms; i++) {
    const arrived = new Promise<number>((resolve) => arrivals.push(resolve));
    const sentAt = performance.now();
    alarmClients[i]!.publish(`gridwatch/v1/${alarmDevices[i]!.id}/event`, JSON.stringify({ type: 'smoke.alarm', seq: 1 }), { qos });
    latencies.push((await arrived) - sentAt);
    await sleep(s.gapMs);
  }
  const backgroundRate = (gw.pipeline.counts.received - r0 - s.alarms) / ((performance.now() - t0) / 1000);
  await done;
  await Promise.all(alarmClients.map((c) => c.endAsync()));
  await gw.stop();
  await new Promise<void>((r) => receiver.close(() => r()));
  rmSync(dataDir, { recursive: true, force: true });
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted[sorted.length - 1] ?? 0), n: latencies.length, backgroundRate: Math.round(backgroundRate) };
}
