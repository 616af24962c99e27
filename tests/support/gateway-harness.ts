/**
 * Builds a whole gateway in-process for tests: temp data dir, HTTP and MQTT on port 0 bound to
 * loopback, a known admin token, logs silenced. Everything real; nothing mocked.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { loadConfig } from '../../gateway/src/app/config.js';
import { createGateway, type Gateway } from '../../gateway/src/app/gateway.js';
import type { Clock } from '../../gateway/src/ports.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export const SMALL_SITE = `
streets:
  - id: s1
    code: "110105001"
    name: Test Street
    communities:
      - id: c1
        code: "110105001001"
        name: Test Community
        grids:
          - id: g1
            code: "11010500100101"
            name: Test Grid
            buildings:
              - { id: b1, name: Building 1, floors: 10 }
              - { id: b2, name: Building 2, floors: 10 }
`;

export interface Harness {
  gateway: Gateway;
  dataDir: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, checked field by field by the assertions
  api(method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; body: any }>;
  register(id: string, kind: string, buildingId?: string): Promise<string>;
  connect(id: string, secret: string, extra?: IClientOptions): Promise<MqttClient>;
  restart(env?: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(env: Record<string, string> = {}, options: { dataDir?: string; site?: string; demoTelemetryEverySeconds?: number; clock?: Clock } = {}): Promise<Harness> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'gridwatch-test-'));
  const siteFile = path.join(dataDir, 'site.yaml');
  writeFileSync(siteFile, options.site ?? SMALL_SITE);
  const clients: MqttClient[] = [];
  let gateway = await build(env);

  async function build(extraEnv: Record<string, string>): Promise<Gateway> {
    const result = loadConfig({
      GRIDWATCH_DATA_DIR: dataDir,
      GRIDWATCH_SITE_FILE: siteFile,
      GRIDWATCH_HTTP_HOST: '127.0.0.1',
      GRIDWATCH_HTTP_PORT: '0',
      GRIDWATCH_MQTT_HOST: '127.0.0.1',
      GRIDWATCH_MQTT_PORT: '0',
      GRIDWATCH_ADMIN_TOKEN: ADMIN_TOKEN,
      GRIDWATCH_LOG_LEVEL: 'silent',
      ...extraEnv,
    }, extraEnv.GRIDWATCH_DEMO === 'true' ? ['--demo'] : []);
    if (!result.ok) throw new Error(result.problems.join('; '));
    const gw = await createGateway({ config: result.config, ...(options.clock ? { clock: options.clock } : {}), ...(options.demoTelemetryEverySeconds ? { demoTelemetryEverySeconds: options.demoTelemetryEverySeconds } : {}) });
    await gw.start();
    return gw;
  }

  const harness: Harness = {
    get gateway() {
      return gateway;
    },
    dataDir,
    async api(method, url, body, token = ADMIN_TOKEN) {
      const res = await fetch(`${gateway.httpUrl()}${url}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON: keep the text */
      }
      return { status: res.status, body: parsed };
    },
    async register(id, kind, buildingId = 'b1') {
      const res = await harness.api('POST', '/api/v1/devices', { id, kind, buildingId, floor: 2 });
      if (res.status !== 201) throw new Error(`register ${id}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.secret as string;
    },
    async connect(id, secret, extra = {}) {
      const client = mqtt.connect(gateway.mqttUrl(), {
        clientId: id,
        username: id,
        password: secret,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        ...extra,
      });
      clients.push(client);
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      return client;
    },
    async restart(extraEnv = env) {
      await gateway.stop();
      gateway = await build(extraEnv);
    },
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
      await gateway.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Waits for the sinks to write what they were handed, then returns. No sleeps. */
export async function settle(gateway: Gateway): Promise<void> {
  await Promise.all(gateway.sinks.map((s) => s.flush()));
}

/** Publishes and waits for the broker's acknowledgement (QoS 1) so the gateway has the message. */
export async function publishAcked(client: MqttClient, topic: string, payload: unknown): Promise<void> {
  const body = typeof payload === 'string' || payload instanceof Buffer ? payload : JSON.stringify(payload);
  await client.publishAsync(topic, body, { qos: 1 });
}

/** Polls a condition on the event loop until it holds; fails after `timeoutMs` with `what`. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A clock that moves only when told: time-based behaviour (escalation, timers) without sleeps. */
export class ManualClock implements Clock {
  constructor(private t: number = Date.now()) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface TestBuilding {
  readonly id: string;
  readonly name?: string;
  readonly floors?: number;
  readonly rules?: Record<string, { enabled?: boolean; params?: Record<string, unknown> }>;
}

export interface TestPerson {
  readonly id: string;
  readonly name: string;
  readonly role: 'captain' | 'grid_worker' | 'community_staff' | 'street_dispatcher';
  readonly scope: readonly string[];
  readonly channels: ReadonlyArray<{ type: string; target: string }>;
}

/** A site file (JSON, which the site file reader accepts) with street s1 → community c1 → grid g1 → the given buildings. */
export function testSite(buildings: readonly TestBuilding[], people: readonly TestPerson[] = []): string {
  return JSON.stringify({
    streets: [
      {
        id: 's1',
        code: '110105001',
        name: 'Test Street',
        communities: [
          {
            id: 'c1',
            code: '110105001001',
            name: 'Test Community',
            grids: [{ id: 'g1', code: '11010500100101', name: 'Test Grid', buildings: buildings.map((b) => ({ name: `Building ${b.id}`, floors: 10, ...b })) }],
          },
        ],
      },
    ],
    people,
  });
}

/** Rule override that turns smoke-alarm verification off, so an alarm escalates on the plain T1 path. */
export const NO_VERIFICATION = { 'smoke.alarm': { params: { 'verification.enabled': false } } } as const;
