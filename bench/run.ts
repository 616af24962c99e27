/**
 * `npm run bench`: the gateway measured against do-nothing baselines on the same machine, in one
 * run, each figure the median of several repetitions. Ratios matter more than absolute figures:
 * these machines are shared and noisy. Prints tables and writes bench/results/latest.json.
 *
 *   npm run bench                      quick run (< 5 min)
 *   npm run bench -- --long            longer windows, more repetitions, 30 s overload
 *   npm run bench -- --only=throughput,latency,mosquitto,influx,startup,overload
 *
 * Env overrides: BENCH_SECONDS (rate window incl. 1 s warm-up), BENCH_REPS, BENCH_DEVICES,
 * BENCH_WINDOW (in-flight publishes per connection), BENCH_LOAD_RATE (background msgs/s during
 * the latency run), BENCH_ALARMS, BENCH_OVERLOAD_SECONDS, BENCH_STARTUP_DEVICES (comma list).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fleet, here, median, ratio, round } from './common.js';
import { influxSink, victoriaMetricsAvailable, type InfluxResult } from './influx.js';
import { alertLatency } from './latency.js';
import { Mosquitto, mosquittoAvailable } from './mosquitto.js';
import { overload, type OverloadResult } from './overload.js';
import { startup, type StartupResult } from './startup.js';
import { bareAedes, embeddedBrokerOnly, fullPipeline, mosquittoBaseline, mosquittoPipeline, type PipelineRun } from './throughput.js';

const args = process.argv.slice(2);
const long = args.includes('--long') || process.env.BENCH_LONG === '1';
const onlyArg = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const only = new Set((onlyArg ?? process.env.BENCH_ONLY ?? 'throughput,latency,mosquitto,influx,startup,overload').split(','));
const env = (name: string, quick: number, longer: number): number => Number(process.env[name] ?? (long ? longer : quick));

const settings = {
  long,
  seconds: env('BENCH_SECONDS', 3, 10),
  reps: env('BENCH_REPS', 3, 5),
  devices: env('BENCH_DEVICES', 20, 20),
  window: env('BENCH_WINDOW', 64, 64),
  loadRate: env('BENCH_LOAD_RATE', 5000, 5000),
  alarms: env('BENCH_ALARMS', 100, 300),
  overloadSeconds: env('BENCH_OVERLOAD_SECONDS', 10, 30),
  outageSeconds: env('BENCH_OUTAGE_SECONDS', 4, 10),
  startupDevices: (process.env.BENCH_STARTUP_DEVICES ?? '10000,100000').split(',').map(Number),
  startupReps: env('BENCH_STARTUP_REPS', 1, 3),
};

type Row = Record<string, number | string>;

function accounting(runs: PipelineRun[]): string {
  return runs.map((r) => `${r.accepted}/${r.stored}${r.rejected > 0 ? ` (${r.rejected} rejected)` : ''}`).join(' ');
}

async function main(): Promise<void> {
  const started = performance.now();
  const devices = fleet(settings.devices);
  const out: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` },
    settings,
  };
  const sustainable: Partial<Record<0 | 1, number>> = {};

  if (only.has('throughput')) {
    const rows: Row[] = [];
    for (const qos of [0, 1] as const) {
      const aedes: number[] = [];
      const broker: number[] = [];
      const full: PipelineRun[] = [];
      for (let rep = 0; rep < settings.reps; rep++) {
        aedes.push(await bareAedes(devices, qos, settings));
        broker.push(await embeddedBrokerOnly(devices, qos, settings));
        full.push(await fullPipeline(devices, qos, settings));
      }
      const a = median(aedes);
      const b = median(broker);
      const f = median(full.map((r) => r.rate));
      sustainable[qos] = f;
      rows.push({
        qos,
        'aedes msg/s': Math.round(a),
        'broker msg/s': Math.round(b),
        'pipeline msg/s': Math.round(f),
        'pipeline/aedes': ratio(f, a),
        'pipeline/broker': ratio(f, b),
        'accepted/stored': accounting(full),
      });
    }
    console.log('\nSustained ingest, embedded broker (aedes = bare aedes counting; broker = gridwatch broker, counting handler)');
    console.table(rows);
    out.throughput = rows;
  }

  if (only.has('latency')) {
    const rows: Row[] = [];
    for (const qos of [0, 1] as const) {
      const l = await alertLatency(devices, qos, { window: settings.window, loadRate: settings.loadRate, alarms: settings.alarms, gapMs: 20 });
      rows.push({ qos, 'background msg/s': l.backgroundRate, alarms: l.n, 'p50 ms': l.p50, 'p99 ms': l.p99, 'max ms': l.max });
    }
    console.log('\nAlert latency: publish of an alarm event → webhook request at the receiver');
    console.table(rows);
    out.latency = rows;
  }

  if (only.has('mosquitto')) {
    if (!mosquittoAvailable()) {
      console.log('\nExternal-broker mode: skipped (no mosquitto binary)');
      out.mosquitto = 'skipped: no mosquitto binary';
    } else {
      const rows: Row[] = [];
      for (const qos of [0, 1] as const) {
        const base: number[] = [];
        const full: PipelineRun[] = [];
        for (let rep = 0; rep < settings.reps; rep++) {
          for (const which of ['base', 'full'] as const) {
            const m = await Mosquitto.start();
            try {
              if (which === 'base') base.push(await mosquittoBaseline(m, devices, qos, settings));
              else full.push(await mosquittoPipeline(m, devices, qos, settings));
            } finally {
              await m.stop();
            }
          }
        }
        const b = median(base);
        const f = median(full.map((r) => r.rate));
        rows.push({ qos, 'mosquitto+subscriber msg/s': Math.round(b), 'gateway msg/s': Math.round(f), ratio: ratio(f, b), 'accepted/stored': accounting(full) });
      }
      console.log('\nExternal-broker mode against a private Mosquitto (baseline: plain MQTT.js subscriber counting)');
      console.table(rows);
      out.mosquitto = rows;
    }
  }

  if (only.has('influx')) {
    if (!victoriaMetricsAvailable()) {
      console.log('\nInfluxDB sink: skipped (no victoria-metrics binary)');
      out.influx = 'skipped: no victoria-metrics binary';
    } else {
      const runs: InfluxResult[] = [];
      const reps = Math.max(1, Math.min(settings.reps, long ? 3 : 1));
      for (let rep = 0; rep < reps; rep++) runs.push(await influxSink(devices, { seconds: settings.seconds, window: settings.window, loadRate: settings.loadRate, outageS: settings.outageSeconds }));
      const m = (k: keyof InfluxResult): number => median(runs.map((r) => r[k]));
      const row: Row = {
        'points/s written': m('pointsPerS'),
        'msg/s meanwhile': m('messagesPerS'),
        'outage s': m('outageS'),
        'backlog lines': m('backlogLines'),
        'replay points/s': m('replayPointsPerS'),
        'drain s': m('drainS'),
        'recovery s': m('recoveryS'),
        'pending after': m('pendingAfter'),
      };
      console.log(`\nInfluxDB sink against a private VictoriaMetrics (outage under ${settings.loadRate} msg/s)`);
      console.table([row]);
      out.influx = row;
    }
  }

  if (only.has('startup')) {
    const rows: StartupResult[] = [];
    for (const n of settings.startupDevices) rows.push(await startup(n, settings.startupReps));
    console.log('\nStart-up with registered devices (fresh process; start = createGateway + start)');
    console.table(rows.map((r) => ({ devices: r.devices, 'start ms': r.startMs, 'process ms': r.processMs, 'RSS MiB': r.rssMiB, 'heap MiB': r.heapUsedMiB })));
    out.startup = rows;
  }

  if (only.has('overload')) {
    const rows: OverloadResult[] = [];
    // Twice what the full pipeline sustained in this run (or a fixed guess when throughput was not run).
    const base = sustainable[1] ?? Number(process.env.BENCH_SUSTAINABLE ?? 30_000);
    rows.push(await overload(devices, 1, 2 * base, settings.overloadSeconds, settings.window));
    console.log('\nOverload: publishers at twice the sustainable QoS 1 rate');
    console.table(rows.map((r) => ({ qos: r.qos, 'offered msg/s': r.offeredRate, 'taken msg/s': r.takenRate, s: r.seconds, 'RSS start MiB': r.rssStartMiB, 'RSS max MiB': r.rssMaxMiB, 'growth MiB': r.rssGrowthMiB, 'drift MiB': r.rssDriftMiB, accepted: r.accepted, stored: r.stored, 'sink dropped': r.sinkDropped })));
    out.overload = rows;
  }

  out.durationS = round((performance.now() - started) / 1000);
  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(path.join(here, 'results', 'latest.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\nwritten bench/results/latest.json (${out.durationS} s)`);
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
