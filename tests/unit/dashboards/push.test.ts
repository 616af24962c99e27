/**
 * dashboards:push against a real HTTP server on loopback that answers like Grafana's API and
 * records every request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KINDS } from '../../../gateway/src/domain/kinds/index.js';
import { GrafanaApiError, main, pushDashboards } from '../../../dashboards/push.js';
import { buildDashboards } from '../../../dashboards/src/catalog.js';

interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

interface FakeGrafana {
  readonly url: string;
  readonly requests: Recorded[];
  /** Folder uids that exist. */
  readonly folders: Set<string>;
}

interface Behaviour {
  readonly prefix?: string;
  readonly token?: string;
  readonly folderExists?: boolean;
  readonly datasourceExists?: boolean;
  /** Dashboard uids Grafana refuses (412, as for a version conflict). */
  readonly refuse?: readonly string[];
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((resolve) => s.close(() => resolve()));
});

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? null : JSON.parse(text);
}

/** Answers the four endpoints dashboards:push calls, the way Grafana 11 does. */
async function fakeGrafana(behaviour: Behaviour = {}): Promise<FakeGrafana> {
  const prefix = behaviour.prefix ?? '';
  const token = behaviour.token ?? 'glsa_test_token';
  const requests: Recorded[] = [];
  const folders = new Set<string>(behaviour.folderExists ? ['gridwatch'] : []);
  let version = 0;
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = (req.url ?? '').startsWith(prefix) ? (req.url ?? '').slice(prefix.length) : `!${req.url}`;
      requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, contentType: req.headers['content-type'], body });
      if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { message: 'invalid API key' });
      const folder = /^\/api\/folders\/([^/]+)$/.exec(path);
      if (req.method === 'GET' && folder) {
        const uid = decodeURIComponent(folder[1] ?? '');
        return folders.has(uid) ? send(res, 200, { uid, title: uid }) : send(res, 404, { message: 'folder not found' });
      }
      if (req.method === 'POST' && path === '/api/folders') {
        const { uid, title } = body as { uid: string; title: string };
        if (folders.has(uid)) return send(res, 409, { message: 'a folder with the same uid already exists' });
        folders.add(uid);
        return send(res, 200, { uid, title, id: 7 });
      }
      if (req.method === 'GET' && path === '/api/datasources/uid/gridwatch-influx') {
        return behaviour.datasourceExists === false
          ? send(res, 404, { message: 'Data source not found' })
          : send(res, 200, { uid: 'gridwatch-influx', type: 'influxdb' });
      }
      if (req.method === 'POST' && path === '/api/dashboards/db') {
        const { dashboard, folderUid } = body as { dashboard: { uid: string }; folderUid: string };
        if (!folders.has(folderUid)) return send(res, 400, { message: 'folder not found' });
        if (behaviour.refuse?.includes(dashboard.uid)) return send(res, 412, { message: 'version-mismatch' });
        version += 1;
        return send(res, 200, { status: 'success', uid: dashboard.uid, url: `/d/${dashboard.uid}`, version });
      }
      return send(res, 404, { message: 'not found' });
    })();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}${prefix}`, requests, folders };
}

const dashboards = buildDashboards(KINDS).map((g) => g.dashboard);

describe('pushDashboards', () => {
  it('creates the missing folder, then saves every dashboard with overwrite and the bearer token', async () => {
    const grafana = await fakeGrafana();
    const result = await pushDashboards({ url: grafana.url, token: 'glsa_test_token', dashboards });

    expect(result.folderCreated).toBe(true);
    expect(result.datasourceFound).toBe(true);
    expect(result.failed).toEqual([]);
    expect(result.pushed.map((p) => p.uid)).toEqual(dashboards.map((d) => d.uid));
    expect(result.pushed[0]).toEqual({ uid: 'gridwatch-building-overview', version: 1, url: '/d/gridwatch-building-overview' });

    expect(grafana.requests.slice(0, 3).map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/folders/gridwatch',
      'POST /api/folders',
      'GET /api/datasources/uid/gridwatch-influx',
    ]);
    expect(grafana.requests[1]?.body).toEqual({ uid: 'gridwatch', title: 'gridwatch' });
    const saves = grafana.requests.filter((r) => r.path === '/api/dashboards/db');
    expect(saves).toHaveLength(dashboards.length);
    for (const save of saves) {
      expect(save.method).toBe('POST');
      expect(save.authorization).toBe('Bearer glsa_test_token');
      expect(save.contentType).toBe('application/json');
      expect(save.body).toMatchObject({ overwrite: true, folderUid: 'gridwatch', dashboard: { id: null } });
    }
    expect(saves.map((s) => (s.body as { dashboard: { uid: string } }).dashboard.uid)).toEqual(dashboards.map((d) => d.uid));
  });

  it('leaves an existing folder alone and keeps a sub-path in the Grafana URL', async () => {
    const grafana = await fakeGrafana({ prefix: '/grafana', folderExists: true });
    const result = await pushDashboards({ url: `${grafana.url}/`, token: 'glsa_test_token', dashboards: dashboards.slice(0, 2) });
    expect(result.folderCreated).toBe(false);
    expect(result.pushed).toHaveLength(2);
    expect(grafana.requests.every((r) => !r.path.startsWith('!'))).toBe(true);
    expect(grafana.requests.some((r) => r.method === 'POST' && r.path === '/api/folders')).toBe(false);
  });

  it('reports a refused dashboard and still pushes the others', async () => {
    const grafana = await fakeGrafana({ refuse: ['gridwatch-kinds'] });
    const lines: string[] = [];
    const result = await pushDashboards({ url: grafana.url, token: 'glsa_test_token', dashboards, log: (l) => lines.push(l) });
    expect(result.failed).toEqual([{ uid: 'gridwatch-kinds', error: 'POST api/dashboards/db → 412: version-mismatch' }]);
    expect(result.pushed).toHaveLength(dashboards.length - 1);
    expect(lines.join('\n')).toContain('gridwatch-kinds refused');
  });

  it('warns when the target Grafana lacks the gridwatch-influx datasource', async () => {
    const grafana = await fakeGrafana({ datasourceExists: false });
    const lines: string[] = [];
    const result = await pushDashboards({ url: grafana.url, token: 'glsa_test_token', dashboards: dashboards.slice(0, 1), log: (l) => lines.push(l) });
    expect(result.datasourceFound).toBe(false);
    expect(result.pushed).toHaveLength(1);
    expect(lines.join('\n')).toMatch(/warning: no datasource with uid gridwatch-influx/);
  });

  it('stops at the folder step with the status and Grafana\'s message when the token is refused', async () => {
    const grafana = await fakeGrafana();
    const push = pushDashboards({ url: grafana.url, token: 'wrong', dashboards });
    await expect(push).rejects.toBeInstanceOf(GrafanaApiError);
    await expect(push).rejects.toMatchObject({ status: 401, detail: 'invalid API key' });
    expect(grafana.requests).toHaveLength(1);
  });
});

describe('npm run dashboards:push', () => {
  it('pushes every generated dashboard to GRAFANA_URL with GRAFANA_TOKEN and exits 0', async () => {
    const grafana = await fakeGrafana();
    const lines: string[] = [];
    const code = await main([], { log: (l) => lines.push(l), env: { GRAFANA_URL: grafana.url, GRAFANA_TOKEN: 'glsa_test_token' } });
    expect(code).toBe(0);
    expect(grafana.requests.filter((r) => r.path === '/api/dashboards/db')).toHaveLength(dashboards.length);
    expect(lines.at(-1)).toBe(`dashboards:push: ${dashboards.length} saved, 0 refused`);
  });

  it('exits 1 when Grafana refuses the token or a dashboard', async () => {
    const grafana = await fakeGrafana({ refuse: ['gridwatch-case-kpis'] });
    const lines: string[] = [];
    expect(await main([], { log: (l) => lines.push(l), env: { GRAFANA_URL: grafana.url, GRAFANA_TOKEN: 'glsa_test_token' } })).toBe(1);
    expect(await main([], { log: (l) => lines.push(l), env: { GRAFANA_URL: grafana.url, GRAFANA_TOKEN: 'nope' } })).toBe(1);
    expect(lines.join('\n')).toContain('GET api/folders/gridwatch → 401: invalid API key');
  });

  it('exits 1 with the reason when Grafana cannot be reached', async () => {
    const grafana = await fakeGrafana();
    const url = grafana.url;
    await new Promise<void>((resolve) => servers.pop()?.close(() => resolve()));
    const lines: string[] = [];
    expect(await main([], { log: (l) => lines.push(l), env: { GRAFANA_URL: url, GRAFANA_TOKEN: 't' } })).toBe(1);
    expect(lines.join('\n')).toMatch(/ECONNREFUSED/);
  });

  it('exits 2 and names every missing or bad setting', async () => {
    const lines: string[] = [];
    expect(await main([], { log: (l) => lines.push(l), env: {} })).toBe(2);
    expect(lines).toEqual([
      'dashboards:push: GRAFANA_URL is not set (e.g. http://localhost:3000)',
      'dashboards:push: GRAFANA_TOKEN is not set (a Grafana service-account token with Editor role)',
    ]);
    lines.length = 0;
    expect(await main([], { log: (l) => lines.push(l), env: { GRAFANA_URL: 'ftp://grafana', GRAFANA_TOKEN: 't' } })).toBe(2);
    expect(lines.join('\n')).toContain("GRAFANA_URL must be an http(s) URL, got 'ftp://grafana'");
  });
});
