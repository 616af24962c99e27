/**
 * `npm run simulate -- [options]`, three modes:
 * - fleet (default): simulated devices of every kind, registered through the gateway's API (or
 *   read from a credentials file), publishing on their heartbeat schedules until stopped;
 * - `--scenario <id>`: one scripted incident (scenarios/), with what the gateway should do, then
 *   what it did (PASS/FAIL per expected alert); `--list-scenarios` shows them;
 * - `--load --rate <msg/s> --duration <s>`: a fixed telemetry rate, with progress and a summary.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { KINDS } from '../../gateway/src/domain/kinds/index.js';
import { runFleet, type FleetDevice } from './fleet.js';
import { runLoad, type LoadProgress } from './load.js';
import {
  ProvisionError,
  chooseBuildings,
  planDevices,
  readCredentials,
  registerDevices,
  saveCredentials,
  type Api,
} from './provision.js';
import { describeCase, describeExpected, runScenario, ScenarioError, timeline, type ScenarioCredential } from './scenario-runner.js';
import { SCENARIOS, scenarioById, type Scenario } from './scenarios/index.js';

const SUMMARY_EVERY_MS = 5_000;

export interface CliIo {
  readonly log: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Stops the run when it settles (tests); Ctrl-C, SIGTERM and --duration stop it too. */
  readonly until?: Promise<unknown>;
  /** Output is a terminal: the load progress line is redrawn in place through `write`. */
  readonly isTTY?: boolean;
  /** Raw output without a newline (progress redraws). */
  readonly write?: (text: string) => void;
}

interface CliOptions {
  mqttUrl: string;
  apiUrl?: string;
  token?: string;
  building?: string;
  buildings: number;
  perKind: number;
  prefix?: string;
  jitter: number;
  scenario?: string;
  listScenarios?: boolean;
  wait: number;
  load?: boolean;
  rate?: number;
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

function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 0.5) throw new InvalidArgumentError('expected a fraction 0…0.5 (0.1 = ±10 %)');
  return n;
}

function qos(value: string): 0 | 1 {
  if (value !== '0' && value !== '1') throw new InvalidArgumentError('expected 0 or 1');
  return value === '0' ? 0 : 1;
}

function program(io: CliIo): Command {
  return new Command('simulate')
    .description('Simulate gridwatch devices over MQTT: a fleet of every kind, a scripted scenario, or a fixed load')
    .option('--mqtt-url <url>', 'broker the devices connect to', 'mqtt://localhost:1883')
    .option('--api-url <url>', 'gateway API used to register the devices, e.g. http://localhost:8080')
    .option('--token <token>', 'admin or integrator API token (default: $GRIDWATCH_TOKEN)')
    .option('--building <id>', 'building to place the devices in (default: the first the API lists)')
    .option('--buildings <n>', 'fleet and load: the first N buildings the API lists, devices of every kind in each', count, 1)
    .option('--per-kind <n>', 'devices of every kind (per building)', count, 2)
    .option('--prefix <prefix>', "device id prefix (default 'sim-'; scenarios 'scn-')")
    .option('--speed <factor>', 'time compression: 60 turns an hourly heartbeat into one a minute', positiveNumber, 1)
    .option('--seed <n>', 'seed for samples and jitter (same seed, same run)', integer, 1)
    .option('--jitter <fraction>', 'fleet: ± fraction of every period, seeded', fraction, 0.1)
    .option('--qos <0|1>', 'QoS for telemetry (events always use 1)', qos, 1)
    .option('--duration <s>', 'stop after this many seconds (0 = until Ctrl-C; load: required)', seconds, 0)
    .option('--scenario <id>', 'run one scripted scenario and check what the gateway raised (see --list-scenarios)')
    .option('--list-scenarios', 'list the scenarios and what each expects, then exit')
    .option('--wait <s>', 'scenario: how long to wait for the expected alerts after the last step', seconds, 15)
    .option('--load', 'load mode: telemetry at --rate messages per second for --duration seconds')
    .option('--rate <msg/s>', 'load: messages per second, all devices together', positiveNumber)
    .option('--credentials <file>', 'JSON array of {id, kind, secret} (scenarios: plus role) to use instead of registering')
    .option('--save-credentials <file>', 'write the secrets of newly registered devices here (mode 600)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.log(s.trimEnd()), writeErr: (s) => io.log(s.trimEnd()) });
}

function apiOf(options: CliOptions, io: CliIo): Api | undefined {
  if (!options.apiUrl) return undefined;
  const token = options.token ?? io.env.GRIDWATCH_TOKEN;
  if (!token) throw new ProvisionError('--api-url needs --token (or GRIDWATCH_TOKEN): an admin or integrator API token');
  return { url: options.apiUrl, token };
}

async function devicesFor(options: CliOptions, io: CliIo): Promise<FleetDevice[]> {
  const prefix = options.prefix ?? 'sim-';
  if (options.credentials) {
    const devices = await readCredentials(options.credentials);
    io.log(`simulate: ${devices.length} devices from ${options.credentials}`);
    return devices;
  }
  const api = apiOf(options, io);
  if (api) {
    const buildings = await chooseBuildings(api, options.buildings, options.building);
    const plan = buildings.flatMap((building) =>
      planDevices({ kinds: KINDS, perKind: options.perKind, prefix, buildingId: building.id, floors: building.floors, buildingInIds: buildings.length > 1 }),
    );
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
    const where = buildings.length === 1 ? `building ${buildings[0]!.id}` : `${buildings.length} buildings (${buildings.map((b) => b.id).join(', ')})`;
    io.log(`simulate: registered ${devices.length} devices in ${where}`);
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
      id: `${prefix}${kind.id}-${i + 1}`,
      kind: kind.id,
      secret: randomBytes(32).toString('base64url'),
    })),
  );
}

function listScenarios(io: CliIo): void {
  io.log('scenarios (npm run simulate -- --scenario <id> --api-url … --token …):');
  for (const s of SCENARIOS) {
    io.log(`  ${s.id.padEnd(15)} ${s.title}`);
    io.log(`  ${''.padEnd(15)} expects ${s.expect.alerts.map(describeExpected).join('; ')}; ${describeCase(s.expect.caseOpened)}`);
  }
}

function announce(scenario: Scenario, io: CliIo): void {
  const steps = timeline(scenario);
  const lastS = (steps[steps.length - 1]?.atMs ?? 0) / 1000;
  io.log(`scenario ${scenario.id}: ${scenario.title} (about ${Math.ceil(lastS)} s)`);
  io.log(`  ${scenario.description}`);
  io.log('  the gateway should raise:');
  for (const e of scenario.expect.alerts) io.log(`    ${describeExpected(e)}`);
  io.log(`  and then: ${describeCase(scenario.expect.caseOpened)}`);
}

/** Credentials for a scenario: entries with a `role`, or matched to the roles by kind in order. */
async function scenarioCredentials(file: string, scenario: Scenario): Promise<ScenarioCredential[]> {
  const devices = await readCredentials(file);
  const raw = JSON.parse(await readFile(file, 'utf8')) as Array<{ role?: unknown }>;
  const taken = new Set<number>();
  const out: ScenarioCredential[] = [];
  for (const [role, spec] of Object.entries(scenario.devices)) {
    let i = raw.findIndex((r, n) => r.role === role && !taken.has(n));
    if (i < 0) i = devices.findIndex((d, n) => d.kind === spec.kind && !taken.has(n) && typeof raw[n]?.role !== 'string');
    if (i < 0) continue;
    taken.add(i);
    out.push({ role, ...devices[i]! });
  }
  return out;
}

async function runScenarioMode(options: CliOptions, io: CliIo): Promise<number> {
  const scenario = scenarioById(options.scenario ?? '');
  if (!scenario) {
    io.log(`simulate: no scenario '${options.scenario}' (known: ${SCENARIOS.map((s) => s.id).join(', ')})`);
    return 1;
  }
  announce(scenario, io);
  const api = apiOf(options, io);
  const credentials = options.credentials ? await scenarioCredentials(options.credentials, scenario) : [];
  let report;
  try {
    report = await runScenario({
      scenario,
      mqttUrl: options.mqttUrl,
      ...(api ? { api } : {}),
      ...(options.building ? { buildingId: options.building } : {}),
      credentials,
      prefix: options.prefix ?? 'scn-',
      check: { timeoutMs: options.wait * 1000 },
      log: (line) => io.log(`  ${line}`),
    });
  } catch (err) {
    if (err instanceof ScenarioError && err.registered.length > 0 && options.saveCredentials) {
      await saveCredentials(options.saveCredentials, err.registered);
      io.log(`simulate: the devices registered so far are saved in ${options.saveCredentials}`);
    }
    throw err;
  }
  const registered = Object.values(report.devices).filter((d) => !credentials.some((c) => c.id === d.id));
  if (options.saveCredentials && registered.length > 0) {
    await saveCredentials(options.saveCredentials, registered);
    io.log(`simulate: secrets saved in ${options.saveCredentials}; rerun with --credentials ${options.saveCredentials}`);
  }
  io.log(`  devices: ${Object.entries(report.devices).map(([role, d]) => `${role} = ${d.id}`).join(', ')}`);
  const outcome = report.outcome;
  if (!outcome) {
    io.log(`scenario ${scenario.id}: sent ${report.published} messages; not checked (pass --api-url and --token to check the alerts)`);
    return 0;
  }
  for (const c of outcome.checks) io.log(`  ${c.pass ? 'PASS' : 'FAIL'} ${describeExpected(c.expected)} [${c.deviceId}]: ${c.detail}`);
  for (const a of outcome.unexpected) io.log(`  FAIL unexpected ${a.type} (${a.signalClass}) on ${a.role} [${a.deviceId}]: alert ${a.id}, ${a.state}`);
  io.log(`  grid case: ${outcome.cases}`);
  const passed = outcome.checks.filter((c) => c.pass).length;
  io.log(
    `scenario ${scenario.id}: ${outcome.pass ? 'PASS' : 'FAIL'} (${passed}/${outcome.checks.length} expected alerts, ${outcome.unexpected.length} unexpected)`,
  );
  return outcome.pass ? 0 : 1;
}

function progressLine(p: LoadProgress, target: number): string {
  const rate = p.elapsedS > 0 ? p.acked / p.elapsedS : 0;
  return `simulate: load ${p.elapsedS.toFixed(0)} s  sent ${p.sent}  acked ${p.acked}  errors ${p.errors}  ${rate.toFixed(0)}/${target} msg/s  connected ${p.connected}`;
}

async function runLoadMode(options: CliOptions, io: CliIo, devices: FleetDevice[]): Promise<number> {
  const rate = options.rate as number;
  const tty = io.isTTY === true && io.write !== undefined;
  let lastLine = 0;
  const summary = await runLoad({
    mqttUrl: options.mqttUrl,
    devices,
    rate,
    durationS: options.duration,
    qos: options.qos,
    seed: options.seed,
    progressEveryMs: tty ? 500 : 1000,
    onProgress: (p) => {
      // A terminal gets one line redrawn in place; a log file one line every 5 s.
      if (tty) io.write?.(`\r\x1b[2K${progressLine(p, rate)}`);
      else if (p.elapsedS - lastLine >= SUMMARY_EVERY_MS / 1000 - 0.5) {
        lastLine = p.elapsedS;
        io.log(progressLine(p, rate));
      }
    },
    logger: (line) => io.log(`simulate: ${line}`),
  });
  if (tty) io.write?.('\r\x1b[2K');
  io.log(
    `simulate: load done in ${summary.elapsedS.toFixed(1)} s: sent ${summary.sent}, acked ${summary.acked}, errors ${summary.errors}, ` +
      `unacked ${summary.unacked}; achieved ${summary.achievedRate.toFixed(1)} msg/s of ${rate} (${summary.devices} devices)`,
  );
  return summary.errors === 0 && summary.unacked === 0 ? 0 : 1;
}

/** Options that do not go together, said before anything connects. */
function usageProblem(options: CliOptions): string | null {
  if (options.scenario !== undefined && options.load) return '--scenario and --load are separate modes: choose one';
  if (options.load) {
    if (options.rate === undefined) return '--load needs --rate <messages per second>';
    if (!(options.duration > 0)) return '--load needs --duration <seconds> (more than 0)';
  } else if (options.rate !== undefined) {
    return '--rate is for --load';
  }
  if (options.building && options.buildings > 1) return '--building names one building; leave it out to use the first --buildings N';
  return null;
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
  if (options.listScenarios) {
    listScenarios(io);
    return 0;
  }
  const usage = usageProblem(options);
  if (usage) {
    io.log(`simulate: ${usage}`);
    return 1;
  }

  let devices: FleetDevice[];
  try {
    if (options.scenario !== undefined) return await runScenarioMode(options, io);
    devices = await devicesFor(options, io);
    if (options.load) return await runLoadMode(options, io, devices);
  } catch (err) {
    if (err instanceof ProvisionError || err instanceof ScenarioError) {
      io.log(`simulate: ${err.message}`);
      return 1;
    }
    io.log(`simulate: ${(err as Error).message}`);
    return 1;
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
      jitter: options.jitter,
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
  const io: CliIo = {
    log: (line) => console.log(line),
    env: process.env,
    isTTY: process.stdout.isTTY === true,
    write: (text) => process.stdout.write(text),
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
