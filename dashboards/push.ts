/**
 * `npm run dashboards:push`: sends the generated dashboards to a Grafana that already runs (one
 * not started by docker-compose.yml, where provisioning loads them from files instead).
 *
 *   GRAFANA_URL=https://grafana.example.org GRAFANA_TOKEN=glsa_… npm run dashboards:push
 *
 * Uses Grafana's HTTP API with a service-account token (role Editor, or dashboards:write and
 * folders:create): the folder is created by uid when missing (POST /api/folders), then every
 * dashboard is saved with POST /api/dashboards/db and `overwrite: true`, so pushing again
 * replaces the previous version. The datasource is not created here: the target Grafana needs an
 * InfluxDB (Flux) datasource with uid `gridwatch-influx` (see provisioning/datasources).
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { KINDS } from '../gateway/src/domain/kinds/index.js';
import { buildDashboards } from './src/catalog.js';
import { DATASOURCE_UID } from './src/flux.js';
import type { Dashboard } from './src/model.js';

/** The folder the provisioning file also uses, so both ways end in the same place. */
export const FOLDER = Object.freeze({ uid: 'gridwatch', title: 'gridwatch' });

const REQUEST_TIMEOUT_MS = 15_000;

/** A refusal from Grafana's API, with its HTTP status and Grafana's own message. */
export class GrafanaApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly detail: string,
  ) {
    super(`${method} ${path} → ${status}${detail ? `: ${detail}` : ''}`);
    this.name = 'GrafanaApiError';
  }
}

export interface PushOptions {
  /** Grafana's base URL; a sub-path (https://host/grafana/) is kept. */
  readonly url: string;
  /** Service-account token, sent as a bearer token. */
  readonly token: string;
  readonly dashboards: readonly Dashboard[];
  readonly folder?: { readonly uid: string; readonly title: string };
  readonly log?: (line: string) => void;
}

export interface PushResult {
  readonly folderCreated: boolean;
  /** False when the target Grafana has no datasource with uid gridwatch-influx (panels would show an error). */
  readonly datasourceFound: boolean;
  readonly pushed: { readonly uid: string; readonly version: number | null; readonly url: string | null }[];
  readonly failed: { readonly uid: string; readonly error: string }[];
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

class GrafanaClient {
  private readonly base: URL;

  constructor(
    url: string,
    private readonly token: string,
  ) {
    this.base = new URL(url.endsWith('/') ? url : `${url}/`);
  }

  async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
    const response = await fetch(new URL(path, this.base), {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // Not JSON (a proxy's error page): keep the text for the message.
    }
    return { status: response.status, body: parsed };
  }

  async expectOk(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const answer = await this.request(method, path, body);
    if (answer.status < 200 || answer.status > 299) throw new GrafanaApiError(method, path, answer.status, messageOf(answer.body));
    return answer.body;
  }
}

/** Grafana answers errors as `{ "message": "…" }`. */
function messageOf(body: unknown): string {
  if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') return body.message;
  if (typeof body === 'string') return body.slice(0, 200);
  return '';
}

/**
 * Ensures the folder, checks the datasource, and saves every dashboard. A refusal on the folder
 * (bad token, no permission) aborts with a GrafanaApiError; a refused dashboard is reported in
 * `failed` and the others are still pushed.
 */
export async function pushDashboards(options: PushOptions): Promise<PushResult> {
  const log = options.log ?? (() => {});
  const folder = options.folder ?? FOLDER;
  const grafana = new GrafanaClient(options.url, options.token);

  let folderCreated = false;
  const existing = await grafana.request('GET', `api/folders/${encodeURIComponent(folder.uid)}`);
  if (existing.status === 404) {
    const created = await grafana.request('POST', 'api/folders', { uid: folder.uid, title: folder.title });
    // 409/412: created meanwhile by someone else, which is just as good.
    if (created.status !== 409 && created.status !== 412 && (created.status < 200 || created.status > 299)) {
      throw new GrafanaApiError('POST', 'api/folders', created.status, messageOf(created.body));
    }
    folderCreated = created.status >= 200 && created.status <= 299;
    if (folderCreated) log(`dashboards:push: created folder ${folder.uid}`);
  } else if (existing.status < 200 || existing.status > 299) {
    throw new GrafanaApiError('GET', `api/folders/${folder.uid}`, existing.status, messageOf(existing.body));
  }

  const datasource = await grafana.request('GET', `api/datasources/uid/${DATASOURCE_UID}`);
  const datasourceFound = datasource.status >= 200 && datasource.status <= 299;
  if (!datasourceFound) {
    log(
      `dashboards:push: warning: no datasource with uid ${DATASOURCE_UID} is visible (${datasource.status}); ` +
        'the panels need an InfluxDB (Flux) datasource with that uid (dashboards/grafana/provisioning/datasources/gridwatch.yaml)',
    );
  }

  const pushed: PushResult['pushed'] = [];
  const failed: PushResult['failed'] = [];
  for (const dashboard of options.dashboards) {
    try {
      const saved = await grafana.expectOk('POST', 'api/dashboards/db', {
        dashboard: { ...dashboard, id: null },
        folderUid: folder.uid,
        overwrite: true,
        message: 'gridwatch: generated from the kind registry',
      });
      const s = (saved ?? {}) as { version?: unknown; url?: unknown };
      pushed.push({
        uid: dashboard.uid,
        version: typeof s.version === 'number' ? s.version : null,
        url: typeof s.url === 'string' ? s.url : null,
      });
      log(`dashboards:push: ${dashboard.uid} saved${typeof s.version === 'number' ? ` (version ${s.version})` : ''}`);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      failed.push({ uid: dashboard.uid, error });
      log(`dashboards:push: ${dashboard.uid} refused: ${error}`);
    }
  }
  return { folderCreated, datasourceFound, pushed, failed };
}

export interface PushIo {
  readonly log: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The CLI; returns the exit code (0 all pushed, 1 something refused, 2 bad configuration). */
export async function main(argv: readonly string[], io: PushIo): Promise<number> {
  let help = false;
  try {
    help = parseArgs({ args: [...argv], options: { help: { type: 'boolean', short: 'h' } }, strict: true }).values.help === true;
  } catch (err) {
    io.log(`dashboards:push: ${(err as Error).message}`);
    return 2;
  }
  if (help) {
    io.log('usage: GRAFANA_URL=https://grafana.example.org GRAFANA_TOKEN=<service account token> npm run dashboards:push');
    return 0;
  }
  const problems: string[] = [];
  const url = io.env.GRAFANA_URL?.trim() ?? '';
  const token = io.env.GRAFANA_TOKEN?.trim() ?? '';
  if (url === '') problems.push('GRAFANA_URL is not set (e.g. http://localhost:3000)');
  else if (!/^https?:\/\//.test(url) || !URL.canParse(url)) problems.push(`GRAFANA_URL must be an http(s) URL, got '${url}'`);
  if (token === '') problems.push('GRAFANA_TOKEN is not set (a Grafana service-account token with Editor role)');
  if (problems.length > 0) {
    for (const p of problems) io.log(`dashboards:push: ${p}`);
    return 2;
  }
  try {
    const result = await pushDashboards({ url, token, dashboards: buildDashboards(KINDS).map((g) => g.dashboard), log: io.log });
    io.log(`dashboards:push: ${result.pushed.length} saved, ${result.failed.length} refused`);
    return result.failed.length === 0 ? 0 : 1;
  } catch (err) {
    // fetch() reports an unreachable host as "fetch failed"; the reason is in its cause.
    const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
    io.log(`dashboards:push: ${err instanceof Error ? err.message : String(err)}${cause}`);
    return 1;
  }
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
