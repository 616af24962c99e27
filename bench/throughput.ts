/**
 * Sustained ingest rate: the do-nothing baselines against the full gateway, with the same
 * publishers, in the same run. Embedded mode: bare aedes counting 'publish', the gateway's own
 * embedded broker (auth, ACL, size limits) with a counting handler, and the whole gateway.
 * External mode: Mosquitto with a plain MQTT.js subscriber counting, against the gateway
 * subscribed to the same Mosquitto.
 */
import { rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import BetterSqlite3 from 'better-sqlite3';
import { createEmbeddedBroker } from '../broker/src/embedded-broker.js';
import { drive, startGateway, type BenchDevice, type PublisherJob } from './common.js';
import type { Mosquitto } from './mosquitto.js';

export interface RateSettings {
  seconds: number;
  window: number;
}

function job(url: string, devices: BenchDevice[], qos: 0 | 1, s: RateSettings): PublisherJob {
  return { url, devices, seconds: s.seconds, qos, window: s.window, abandon: qos === 0 };
}

/** Bare aedes, a listener on 'publish' counting device messages: the ceiling of the broker library. */
export async function bareAedes(devices: BenchDevice[], qos: 0 | 1, s: RateSettings): Promise<number> {
  const broker = await Aedes.createBroker();
  let n = 0;
  broker.on('publish', (_packet, client) => {
    if (client) n++;
  });
  const server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const anonymous = devices.map((d) => ({ ...d, secret: null }));
  const { rate } = await drive(job(`mqtt://127.0.0.1:${port}`, anonymous, qos, s), () => n);
  await new Promise<void>((r) => broker.close(() => r()));
  await new Promise<void>((r) => server.close(() => r()));
  return rate;
}

/** The gateway's embedded broker (auth, ACL, limits) with a handler that only counts. */
export async function embeddedBrokerOnly(devices: BenchDevice[], qos: 0 | 1, s: RateSettings): Promise<number> {
  let n = 0;
  const broker = await createEmbeddedBroker({
    authenticate: async () => 'ok',
    onDeviceMessage: () => {
      n++;
    },
    tcp: { port: 0, host: '127.0.0.1' },
  });
  const { rate } = await drive(job(`mqtt://127.0.0.1:${broker.tcpPort}`, devices, qos, s), () => n);
  await broker.close();
  return rate;
}

export interface PipelineRun {
  rate: number;
  accepted: number;
  rejected: number;
  /** Distinct readings (device, ts, seq) in the SQLite file after the final flush. */
  stored: number;
  /** Publisher's account: publishes acknowledged (QoS 1) or written (QoS 0). */
  acked: number;
}

/** The whole gateway: auth, validation, rules, alert state, embedded storage. */
export async function fullPipeline(devices: BenchDevice[], qos: 0 | 1, s: RateSettings, env: Record<string, string> = {}, url?: string): Promise<PipelineRun> {
  const { gw, dataDir } = await startGateway(devices, { env });
  const pubDevices = url === undefined ? devices : devices.map((d) => ({ ...d, secret: null }));
  const r = await drive(job(url ?? gw.mqttUrl(), pubDevices, qos, s), () => gw.pipeline.counts.received);
  await gw.stop();
  const stored = countStoredReadings(dataDir);
  rmSync(dataDir, { recursive: true, force: true });
  return { rate: r.rate, accepted: gw.pipeline.counts.accepted, rejected: gw.pipeline.counts.rejected, stored, acked: r.publisher.acked };
}

export function countStoredReadings(dataDir: string): number {
  const db = new BetterSqlite3(path.join(dataDir, 'gridwatch.db'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM (SELECT 1 FROM readings GROUP BY device_id, ts, seq_key)').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Mosquitto and a plain MQTT.js subscriber that counts: the ceiling of external-broker mode. */
export async function mosquittoBaseline(mosquitto: Mosquitto, devices: BenchDevice[], qos: 0 | 1, s: RateSettings): Promise<number> {
  const sub = await mqtt.connectAsync(mosquitto.url, { clientId: 'bench-counter', protocolVersion: 4, reconnectPeriod: 0, clean: true });
  let n = 0;
  sub.on('message', () => n++);
  await sub.subscribeAsync('gridwatch/v1/+/telemetry', { qos });
  const anonymous = devices.map((d) => ({ ...d, secret: null }));
  const { rate } = await drive(job(mosquitto.url, anonymous, qos, s), () => n);
  await sub.endAsync(true);
  return rate;
}

/** The gateway as an external client of the same Mosquitto (QoS 1 persistent subscription, as in production). */
export async function mosquittoPipeline(mosquitto: Mosquitto, devices: BenchDevice[], qos: 0 | 1, s: RateSettings): Promise<PipelineRun> {
  return fullPipeline(devices, qos, s, { GRIDWATCH_MQTT_URL: mosquitto.url, GRIDWATCH_MQTT_CLIENT_ID: 'bench-gateway' }, mosquitto.url);
}
