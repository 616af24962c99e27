/**
 * Runs a scenario (scenarios/) against a gateway: provisions one device per role through the API
 * (or takes given credentials), connects them over MQTT, plays the steps at their offsets, then
 * asks the API what the gateway raised and compares it with the scenario's `expect`.
 *
 * Time between steps passes through `advance`: real waiting by default; tests pass a hook that
 * moves a ManualClock and ticks the gateway's alerting, so held-open timers and verification
 * windows never cost real time.
 */
import { randomBytes } from 'node:crypto';
import { kindById } from '../../gateway/src/domain/kinds/index.js';
import type { SignalClass } from '../../gateway/src/domain/signal.js';
import { systemClock, type Clock } from '../../gateway/src/ports.js';
import { connectDevice, disconnect, dropConnection, type DeviceConnection } from './connection.js';
import { apiCall, chooseBuilding, describeFailure, ProvisionError, registerDevices, type Api, type DeviceRegistration } from './provision.js';
import { classesOf, offsetMs, type ExpectedAlert, type Scenario, type ScenarioStep } from './scenarios/index.js';

/** A device for one of the scenario's roles. */
export interface ScenarioCredential {
  readonly role: string;
  readonly id: string;
  readonly kind: string;
  readonly secret: string;
}

export interface ScenarioRunOptions {
  readonly scenario: Scenario;
  readonly mqttUrl: string;
  /** Registers the devices and checks the outcome. Without it, `credentials` must cover every role and nothing is checked. */
  readonly api?: Api;
  /** Building for newly registered devices (default: the first the API lists). */
  readonly buildingId?: string;
  /** Devices to use instead of registering, matched by role. */
  readonly credentials?: readonly ScenarioCredential[];
  /** Device ids are `{prefix}{scenario}-{role}-{runId}` (defaults 'scn-' and 6 random hex digits). */
  readonly prefix?: string;
  readonly runId?: string;
  /** Device clock for payload timestamps. Default: the system clock. */
  readonly clock?: Clock;
  /**
   * Lets `ms` of scenario time pass before the next step. Default: real waiting. `published`
   * counts the messages the broker has acknowledged so far (tests wait for the gateway to have
   * ingested them before they move the clock).
   */
  readonly advance?: (ms: number, progress: { readonly published: number }) => Promise<void>;
  /** How long to poll the API for the expected alerts, and how often (defaults 15 s, 250 ms). */
  readonly check?: { readonly timeoutMs?: number; readonly pollMs?: number };
  readonly log?: (line: string) => void;
}

/** An alert as the API lists it (the fields the comparison reads). */
export interface SeenAlert {
  readonly id: string;
  readonly type: string;
  readonly signalClass: SignalClass;
  readonly state: string;
  readonly deviceId: string;
  readonly role: string;
}

export interface AlertCheck {
  readonly expected: ExpectedAlert;
  readonly deviceId: string;
  readonly pass: boolean;
  readonly alert: SeenAlert | null;
  /** Why it failed, in words ("not raised within 15 s", "raised as trouble"). */
  readonly detail: string;
}

export interface ScenarioOutcome {
  readonly checks: readonly AlertCheck[];
  /** Alerts on the scenario's devices that it does not expect: each one fails the run. */
  readonly unexpected: readonly SeenAlert[];
  /** What could be said about the grid case. */
  readonly cases: string;
  readonly pass: boolean;
}

export interface ScenarioReport {
  readonly scenario: Scenario;
  readonly devices: Readonly<Record<string, ScenarioCredential>>;
  /** Messages the broker acknowledged. */
  readonly published: number;
  /** Null when there was no API to ask. */
  readonly outcome: ScenarioOutcome | null;
}

/** Problems a person at the terminal can act on; the CLI prints the message, not a stack. */
export class ScenarioError extends Error {
  constructor(
    message: string,
    /** Devices registered before the failure: their secrets are shown only once. */
    readonly registered: readonly ScenarioCredential[] = [],
  ) {
    super(message);
    this.name = 'ScenarioError';
  }
}

const realAdvance = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Steps in time order (stable: steps at the same offset keep their written order). */
export function timeline(scenario: Scenario): Array<{ atMs: number; step: ScenarioStep }> {
  return scenario.steps.map((step, i) => ({ atMs: offsetMs(step.at), step, i })).sort((a, b) => a.atMs - b.atMs || a.i - b.i);
}

export function describeExpected(e: ExpectedAlert): string {
  return `${e.type} (${classesOf(e).join(' or ')}) on ${e.deviceRole}`;
}

export function describeCase(caseOpened: Scenario['expect']['caseOpened']): string {
  if (caseOpened === 'when-cases-exist') return 'a grid case if nobody responds (once the gateway has cases)';
  return caseOpened ? 'a grid case' : 'no grid case';
}

export async function runScenario(options: ScenarioRunOptions): Promise<ScenarioReport> {
  const { scenario } = options;
  const log = options.log ?? (() => {});
  const clock = options.clock ?? systemClock;
  const advance = options.advance ?? realAdvance;
  const steps = timeline(scenario);

  const devices = await provision(options);
  const connections = new Map<string, DeviceConnection>();
  const seq = new Map<string, number>();
  let published = 0;
  try {
    for (const [role, device] of Object.entries(devices)) {
      connections.set(role, await connectDevice(options.mqttUrl, device));
      published += 1; // the retained 'online'
    }
    const dropped = new Set<string>();
    let elapsed = 0;
    for (const { atMs, step } of steps) {
      if (atMs > elapsed) {
        await advance(atMs - elapsed, { published });
        elapsed = atMs;
      }
      const where = `+${(atMs / 1000).toFixed(1).padStart(5)} s`;
      if (step.device === undefined) {
        log(`${where}  ${step.say ?? 'time passes'}`);
        continue;
      }
      const connection = connections.get(step.device);
      const device = devices[step.device];
      if (!connection || !device) throw new ScenarioError(`scenario '${scenario.id}': step at ${String(step.at)} names unknown device role '${step.device}'`);
      if (dropped.has(step.device)) throw new ScenarioError(`scenario '${scenario.id}': ${step.device} is used after its connection was dropped`);
      const said = step.say ? `  ${step.say}` : '';
      if ('drop' in step) {
        log(`${where}  ${step.device.padEnd(10)} connection dropped${said}`);
        dropConnection(connection);
        dropped.add(step.device);
        continue;
      }
      const n = (seq.get(step.device) ?? 0) + 1;
      seq.set(step.device, n);
      const stamp = { ts: new Date(clock.now()).toISOString(), seq: n };
      const [channel, body, what] =
        'telemetry' in step
          ? (['telemetry', { ...step.telemetry, ...stamp }, `telemetry ${Object.entries(step.telemetry).map(([k, v]) => `${k}=${v}`).join(' ')}`] as const)
          : (['event', { ...step.event, ...stamp }, `event ${step.event.type}`] as const);
      log(`${where}  ${step.device.padEnd(10)} ${what}${said}`);
      try {
        await connection.client.publishAsync(`gridwatch/v1/${device.id}/${channel}`, JSON.stringify(body), { qos: 1 });
      } catch (err) {
        throw new ScenarioError(`${device.id}: ${channel} not published: ${(err as Error).message}`);
      }
      published += 1;
    }
    const outcome = options.api ? await checkOutcome(options.api, scenario, devices, options.check) : null;
    return { scenario, devices, published, outcome };
  } finally {
    // A clean DISCONNECT: the Last Will is discarded, so ending the run raises nothing by itself.
    await Promise.all([...connections.values()].map((c) => disconnect(c)));
  }
}

/** Devices for every role: given credentials, or registered now in one building. */
async function provision(options: ScenarioRunOptions): Promise<Record<string, ScenarioCredential>> {
  const { scenario } = options;
  const devices: Record<string, ScenarioCredential> = {};
  const missing: Array<[string, Scenario['devices'][string]]> = [];
  for (const [role, spec] of Object.entries(scenario.devices)) {
    if (kindById(spec.kind) === undefined) throw new ScenarioError(`scenario '${scenario.id}': role '${role}' has unknown kind '${spec.kind}'`);
    const given = options.credentials?.find((c) => c.role === role);
    if (given && given.kind !== spec.kind) {
      throw new ScenarioError(`credentials for role '${role}' are a '${given.kind}' device; scenario '${scenario.id}' needs a '${spec.kind}'`);
    }
    if (given) devices[role] = given;
    else missing.push([role, spec]);
  }
  if (missing.length === 0) return devices;
  if (!options.api) {
    throw new ScenarioError(`scenario '${scenario.id}' needs devices for ${missing.map(([r]) => r).join(', ')}: pass --api-url and --token to register them, or --credentials`);
  }
  const building = await chooseBuilding(options.api, options.buildingId);
  const runId = options.runId ?? randomBytes(3).toString('hex');
  const plan: Array<DeviceRegistration & { role: string }> = missing.map(([role, spec]) => ({
    role,
    id: `${options.prefix ?? 'scn-'}${scenario.id}-${role}-${runId}`,
    kind: spec.kind,
    buildingId: building.id,
    ...(spec.floor !== undefined ? { floor: building.floors ? Math.min(spec.floor, building.floors) : spec.floor } : {}),
    name: `${spec.description} (scenario ${scenario.id})`.slice(0, 200),
  }));
  try {
    const registered = await registerDevices(options.api, plan.map(({ role: _role, ...registration }) => registration));
    for (const [i, r] of registered.entries()) devices[plan[i]!.role] = { role: plan[i]!.role, ...r };
  } catch (err) {
    if (err instanceof ProvisionError) {
      const registered = err.registered.map((r, i) => ({ role: plan[i]!.role, ...r }));
      throw new ScenarioError(err.message, registered);
    }
    throw err;
  }
  return devices;
}

/**
 * Polls `GET /api/v1/alerts?deviceId=` for each of the scenario's devices until every expected
 * alert is there or `timeoutMs` has passed, then compares. Anything on those devices the scenario
 * does not expect fails it: a scenario that raises more than it says is a finding too.
 */
export async function checkOutcome(
  api: Api,
  scenario: Scenario,
  devices: Readonly<Record<string, ScenarioCredential>>,
  options: { readonly timeoutMs?: number; readonly pollMs?: number } = {},
): Promise<ScenarioOutcome> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const pollMs = options.pollMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  let seen: SeenAlert[] = [];
  let checks: AlertCheck[] = [];
  for (;;) {
    seen = await listAlerts(api, devices);
    checks = compare(scenario, devices, seen, timeoutMs);
    if (checks.every((c) => c.pass) || Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  const matched = new Set(checks.flatMap((c) => (c.alert ? [c.alert.id] : [])));
  const expectedKeys = new Set(scenario.expect.alerts.map((e) => `${e.deviceRole}\u0000${e.type}`));
  const unexpected = seen.filter((a) => !matched.has(a.id) && !expectedKeys.has(`${a.role}\u0000${a.type}`));
  const cases = await caseFinding(api, scenario, seen.map((a) => a.id));
  return { checks, unexpected, cases, pass: checks.every((c) => c.pass) && unexpected.length === 0 };
}

function compare(scenario: Scenario, devices: Readonly<Record<string, ScenarioCredential>>, seen: readonly SeenAlert[], timeoutMs: number): AlertCheck[] {
  const used = new Set<string>();
  return scenario.expect.alerts.map((expected) => {
    const deviceId = devices[expected.deviceRole]?.id ?? '?';
    const classes = classesOf(expected);
    const sameType = seen.filter((a) => a.deviceId === deviceId && a.type === expected.type && !used.has(a.id));
    const hit = sameType.find((a) => classes.includes(a.signalClass));
    if (hit) {
      used.add(hit.id);
      return { expected, deviceId, pass: true, alert: hit, detail: `alert ${hit.id}, ${hit.state}` };
    }
    const other = sameType[0];
    return {
      expected,
      deviceId,
      pass: false,
      alert: other ?? null,
      detail: other ? `raised as ${other.signalClass}, expected ${classes.join(' or ')}` : `not raised within ${seconds(timeoutMs)} s`,
    };
  });
}

function seconds(ms: number): string {
  return ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000));
}

async function listAlerts(api: Api, devices: Readonly<Record<string, ScenarioCredential>>): Promise<SeenAlert[]> {
  const out: SeenAlert[] = [];
  for (const [role, device] of Object.entries(devices)) {
    const { status, json, text } = await apiCall(api, 'GET', `/alerts?deviceId=${encodeURIComponent(device.id)}&limit=1000`);
    const items = (json as { items?: unknown } | undefined)?.items;
    if (status !== 200 || !Array.isArray(items)) {
      throw new ScenarioError(`cannot list alerts (GET /api/v1/alerts?deviceId=${device.id}: ${describeFailure(status, json, text)})`);
    }
    for (const item of items as Array<Record<string, unknown>>) {
      const source = item.source as { deviceId?: unknown } | undefined;
      if (typeof item.id !== 'string' || typeof item.type !== 'string' || source?.deviceId !== device.id) continue;
      out.push({ id: item.id, type: item.type, signalClass: item.signalClass as SignalClass, state: String(item.state), deviceId: device.id, role });
    }
  }
  return out;
}

/**
 * Grid cases come from escalation (level 3: case due), minutes to hours after the raise, so a
 * scenario run rarely lasts long enough to see one; this reports what the case API shows for the
 * scenario's alerts, and says so when the gateway has no case API.
 */
async function caseFinding(api: Api, scenario: Scenario, alertIds: readonly string[]): Promise<string> {
  const expected = describeCase(scenario.expect.caseOpened);
  const { status, json } = await apiCall(api, 'GET', '/cases?limit=1000');
  if (status === 404) return `${expected}: not checked (this gateway has no case API yet)`;
  const items = (json as { items?: unknown } | undefined)?.items;
  if (status !== 200 || !Array.isArray(items)) return `${expected}: not checked (GET /api/v1/cases answered HTTP ${status})`;
  const ours = new Set(alertIds);
  const cases = (items as Array<{ id?: unknown; alertIds?: unknown }>).filter(
    (c) => Array.isArray(c.alertIds) && c.alertIds.some((id) => typeof id === 'string' && ours.has(id)),
  );
  if (cases.length > 0) return `${expected}: case ${cases.map((c) => String(c.id)).join(', ')} opened for these alerts`;
  return `${expected}: no case yet (one opens when escalation reaches it, after the run)`;
}
