/**
 * The simulate CLI end to end: a real HTTP server on loopback standing in for the gateway's
 * device-registration API, a real aedes broker checking the secrets that API issued, and the CLI
 * registering its devices and running the fleet until the test has seen every device publish.
 */
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KINDS } from '../../../gateway/src/domain/kinds/index.js';
import { main } from '../../../simulators/src/cli.js';

const TOKEN = 'gw_test-token';

interface Registered {
  body: Record<string, unknown>;
  secret: string;
}

let broker: Aedes;
let mqttServer: net.Server;
let api: http.Server;
let mqttUrl: string;
let apiUrl: string;
let dir: string;
let observer: MqttClient | undefined;
let registered: Map<string, Registered>;
let authHeaders: string[];
let lines: string[];

beforeEach(async () => {
  registered = new Map();
  authHeaders = [];
  lines = [];
  dir = await mkdtemp(join(tmpdir(), 'gridwatch-sim-'));
  broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      const ok = username === 'observer' || (username === client.id && registered.get(username ?? '')?.secret === password?.toString());
      if (ok) done(null, true);
      else done(Object.assign(new Error('bad credentials'), { returnCode: 4 }), false);
    },
  });
  mqttServer = net.createServer(broker.handle).listen(0, '127.0.0.1');
  await once(mqttServer, 'listening');
  mqttUrl = `mqtt://127.0.0.1:${(mqttServer.address() as AddressInfo).port}`;

  api = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      authHeaders.push(req.headers.authorization ?? '');
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return reply(401, { error: { code: 'GW_UNAUTHORIZED', message: 'bad token' } });
      if (req.method === 'GET' && req.url?.split('?')[0] === '/api/v1/buildings') {
        return reply(200, { items: [{ id: 'b-1', name: 'Building 1', floors: 3 }, { id: 'b-2', name: 'Building 2', floors: null }] });
      }
      if (req.method === 'POST' && req.url === '/api/v1/devices') {
        const body = JSON.parse(text) as Record<string, unknown>;
        const id = String(body.id);
        if (registered.has(id)) return reply(409, { error: { code: 'GW_CONFLICT', message: `device '${id}' already exists` } });
        const secret = `secret-for-${id}`;
        registered.set(id, { body, secret });
        return reply(201, { device: { ...body, disabled: false }, secret });
      }
      reply(404, { error: { code: 'GW_NOT_FOUND', message: req.url } });
    });
  });
  api.listen(0, '127.0.0.1');
  await once(api, 'listening');
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await observer?.endAsync(true);
  observer = undefined;
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  await new Promise<void>((resolve) => mqttServer.close(() => resolve()));
  await new Promise<void>((resolve) => api.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

/** Resolves once every device the API registered has published telemetry. */
async function everyDevicePublished(): Promise<void> {
  observer = await mqtt.connectAsync(mqttUrl, { clientId: 'observer', username: 'observer', reconnectPeriod: 0 });
  const publishers = new Set<string>();
  await observer.subscribeAsync('gridwatch/v1/+/telemetry', { qos: 1 });
  await new Promise<void>((resolve) => {
    observer!.on('message', (topic) => {
      publishers.add(topic.split('/')[2]!);
      if (registered.size > 0 && [...registered.keys()].every((id) => publishers.has(id))) resolve();
    });
  });
}

const io = (until?: Promise<unknown>) => ({ log: (l: string) => lines.push(l), env: {}, ...(until ? { until } : {}) });

describe('simulate CLI', () => {
  it('registers devices of every kind through the API and runs them until stopped', async () => {
    const saved = join(dir, 'creds.json');
    const until = everyDevicePublished();
    const code = await main(
      ['--mqtt-url', mqttUrl, '--api-url', apiUrl, '--token', TOKEN, '--per-kind', '2', '--speed', '7200', '--save-credentials', saved],
      io(until),
    );
    expect(code).toBe(0);
    expect(registered.size).toBe(KINDS.length * 2);
    expect(authHeaders.every((h) => h === `Bearer ${TOKEN}`)).toBe(true);
    for (const kind of KINDS) {
      const body = registered.get(`sim-${kind.id}-1`)?.body;
      expect(body).toMatchObject({ id: `sim-${kind.id}-1`, kind: kind.id, buildingId: 'b-1' });
      expect(body?.floor).toBeGreaterThanOrEqual(1);
      expect(body?.floor).toBeLessThanOrEqual(3);
    }
    const file = JSON.parse(await readFile(saved, 'utf8')) as Array<{ id: string; secret: string }>;
    expect(file).toHaveLength(registered.size);
    expect(file.every((d) => registered.get(d.id)?.secret === d.secret)).toBe(true);
    expect((await stat(saved)).mode & 0o077).toBe(0);
    expect(lines.at(-1)).toMatch(/^simulate: stopped after .* published \d+ messages .* errors 0$/);
  });

  it('says what to do when a device id is already taken, and keeps the secrets issued so far', async () => {
    registered.set('sim-door-1', { body: {}, secret: 'older' });
    const saved = join(dir, 'partial.json');
    const code = await main(
      ['--mqtt-url', mqttUrl, '--api-url', apiUrl, '--token', TOKEN, '--per-kind', '1', '--save-credentials', saved],
      io(),
    );
    expect(code).toBe(1);
    expect(lines.join('\n')).toMatch(/'sim-door-1' already exists: pass --credentials <file> .* or another --prefix/);
    const partial = JSON.parse(await readFile(saved, 'utf8')) as Array<{ id: string }>;
    expect(partial.map((d) => d.id)).toEqual(['sim-smoke-1']);
  });

  it('refuses to run with a token the API does not accept', async () => {
    const code = await main(['--mqtt-url', mqttUrl, '--api-url', apiUrl, '--token', 'wrong'], io());
    expect(code).toBe(1);
    expect(lines.join('\n')).toMatch(/refused the token .*HTTP 401.*--token/);
    expect(registered.size).toBe(0);
  });

  it('runs devices from a credentials file without calling the API', async () => {
    const creds = KINDS.map((k) => ({ id: `file-${k.id}`, kind: k.id, secret: `s-${k.id}` }));
    for (const d of creds) registered.set(d.id, { body: {}, secret: d.secret });
    const file = join(dir, 'creds.json');
    await writeFile(file, JSON.stringify(creds));
    const code = await main(['--mqtt-url', mqttUrl, '--credentials', file, '--speed', '7200'], io(everyDevicePublished()));
    expect(code).toBe(0);
    expect(authHeaders).toEqual([]);
    expect(lines.at(-1)).toMatch(/errors 0$/);
  });

  it('rejects bad options with a usage error', async () => {
    expect(await main(['--qos', '2'], io())).not.toBe(0);
    expect(await main(['--per-kind', 'many'], io())).not.toBe(0);
    expect(lines.join('\n')).toMatch(/--qos.*expected 0 or 1/);
  });
});
