/**
 * `npm run simulate -- [options]`: a fleet of simulated devices of every kind, registered through
 * the gateway's API (or read from a credentials file), publishing over MQTT until stopped.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { KINDS } from '../../gateway/src/domain/kinds/index.js';
import { runFleet, type FleetDevice } from './fleet.js';
import {
  ProvisionError,
  chooseBuilding,
  planDevices,
  readCredentials,
  registerDevices,
  saveCredentials,
} from './provision.js';

const SUMMARY_EVERY_MS = 5_000;

export interface CliIo {
  readonly log: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Stops the run when it settles (tests); Ctrl-C, SIGTERM and --duration stop it too. */
  readonly until?: Promise<unknown>;
}

interface CliOptions {
  mqttUrl: string;
  apiUrl?: string;
  token?: string;
  building?: string;
  perKind: number;
  prefix: string;
  speed: number;
  seed: number;
  qos: 0 | 1;
  duration: number;
  credentials?: string;
  saveCredentials?: string;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('expected a whole number 1…10000');
  return n;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected seconds, 0 or more');
  return n;
}

function qos(value: string): 0 | 1 {
  if (value !== '0' && value !== '1') throw new InvalidArgumentError('expected 0 or 1');
  return value === '0' ? 0 : 1;
}

function program(io: CliIo): Command {
  return new Command('simulate')
    .description('Simulate a fleet of gridwatch devices of every kind over MQTT')
    .option('--mqtt-url <url>', 'broker the devices connect to', 'mqtt://localhost:1883')
    .option('--api-url <url>', 'gateway API used to register the devices, e.g. http://localhost:8080')
    .option('--token <token>', 'admin or integrator API token (default: $GRIDWATCH_TOKEN)')
    .option('--building <id>', 'building to place the devices in (default: the first the API lists)')
    .option('--per-kind <n>', 'devices of every kind', count, 2)
    .option('--prefix <prefix>', 'device id prefix', 'sim-')
    .option('--speed <factor>', 'time compression: 60 turns an hourly heartbeat into one a minute', positiveNumber, 1)
    .option('--seed <n>', 'seed for samples and jitter (same seed, same run)', integer, 1)
    .option('--qos <0|1>', 'QoS for telemetry (events always use 1)', qos, 1)
    .option('--duration <s>', 'stop after this many seconds (0 = until Ctrl-C)', seconds, 0)
    .option('--credentials <file>', 'JSON array of {id, kind, secret} to use instead of registering')
    .option('--save-credentials <file>', 'write the secrets of newly registered devices here (mode 600)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.log(s.trimEnd()), writeErr: (s) => io.log(s.trimEnd()) });
}

async function devicesFor(options: CliOptions, io: CliIo): Promise<FleetDevice[]> {
  if (options.credentials) {
    const devices = await readCredentials(options.credentials);
    io.log(`simulate: ${devices.length} devices from ${options.credentials}`);
    return devices;
  }
  if (options.apiUrl) {
    const token = options.token ?? io.env.GRIDWATCH_TOKEN;
    if (!token) throw new ProvisionError('--api-url needs --token (or GRIDWATCH_TOKEN): an admin or integrator API token');
    const api = { url: options.apiUrl, token };
    const building = await chooseBuilding(api, options.building);
    const plan = planDevices({ kinds: KINDS, perKind: options.perKind, prefix: options.prefix, buildingId: building.id, floors: building.floors });
    let devices: FleetDevice[];
    try {
      devices = await registerDevices(api, plan);
    } catch (err) {
      if (err instanceof ProvisionError && err.registered.length > 0 && options.saveCredentials) {
        await saveCredentials(options.saveCredentials, err.registered);
        io.log(`simulate: the ${err.registered.length} devices registered so far are saved in ${options.saveCredentials}`);
      }
      throw err;
    }
    io.log(`simulate: registered ${devices.length} devices in building ${building.id}`);
    if (options.saveCredentials) {
      await saveCredentials(options.saveCredentials, devices);
      io.log(`simulate: secrets saved in ${options.saveCredentials}; rerun with --credentials ${options.saveCredentials}`);
    }
    return devices;
  }
  // No registry to ask: useful against a plain broker that does not check device secrets.
  io.log('simulate: no --api-url or --credentials; devices get local secrets the gateway will not know');
  return KINDS.flatMap((kind) =>
    Array.from({ length: options.perKind }, (_, i) => ({
      id: `${options.prefix}${kind.id}-${i + 1}`,
      kind: kind.id,
      secret: randomBytes(32).toString('base64url'),
    })),
  );
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const cli = program(io);
  try {
    cli.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  const options = cli.opts<CliOptions>();

  let devices: FleetDevice[];
  try {
    devices = await devicesFor(options, io);
  } catch (err) {
    if (err instanceof ProvisionError) {
      io.log(`simulate: ${err.message}`);
      return 1;
    }
    throw err;
  }

  const startedAt = Date.now();
  let fleet;
  try {
    fleet = await runFleet({
      mqttUrl: options.mqttUrl,
      devices,
      speed: options.speed,
      seed: options.seed,
      qos: options.qos,
      logger: (line) => io.log(`simulate: ${line}`),
    });
  } catch (err) {
    io.log(`simulate: ${(err as Error).message}`);
    return 1;
  }

  let lastPublished = 0;
  const elapsedS = (): number => (Date.now() - startedAt) / 1000;
  const summary = setInterval(() => {
    const s = fleet.stats();
    const rate = (s.published - lastPublished) / (SUMMARY_EVERY_MS / 1000);
    lastPublished = s.published;
    io.log(
      `simulate: ${elapsedS().toFixed(0)} s  connected ${s.connected}/${devices.length}  published ${s.published} (${rate.toFixed(1)}/s)  errors ${s.errors}`,
    );
  }, SUMMARY_EVERY_MS);

  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const stopReasons: Promise<string>[] = [
    new Promise((resolve) => {
      onSignal = (signal) => resolve(signal === 'SIGINT' ? 'interrupted' : 'terminated');
    }),
  ];
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let durationTimer: NodeJS.Timeout | undefined;
  if (options.duration > 0) {
    stopReasons.push(new Promise((resolve) => (durationTimer = setTimeout(() => resolve('duration reached'), options.duration * 1000))));
  }
  if (io.until) stopReasons.push(io.until.then(() => 'stopped'));
  const reason = await Promise.race(stopReasons);

  clearInterval(summary);
  clearTimeout(durationTimer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await fleet.stop();
  const s = fleet.stats();
  const took = elapsedS();
  io.log(
    `simulate: ${reason} after ${took.toFixed(1)} s; published ${s.published} messages (${(s.published / Math.max(took, 0.001)).toFixed(1)}/s), errors ${s.errors}`,
  );
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), { log: (line) => console.log(line), env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
