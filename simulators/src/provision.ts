/**
 * Getting simulated devices known to a gateway: register them through the HTTP API (which issues
 * each device's secret once), or read the credentials of an earlier run from a file.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { KindDefinition } from '../../gateway/src/domain/kind.js';
import { DEVICE_ID_PATTERN } from '../../gateway/src/domain/site.js';
import type { FleetDevice } from './fleet.js';

export interface Api {
  /** Base URL, e.g. http://localhost:8080 (without /api/v1). */
  readonly url: string;
  /** An admin or integrator API token. */
  readonly token: string;
}

/** What a person at the terminal needs to read; the CLI prints the message, not a stack. */
export class ProvisionError extends Error {
  constructor(
    message: string,
    /** Devices registered before the failure: their secrets are shown only once. */
    readonly registered: readonly FleetDevice[] = [],
  ) {
    super(message);
    this.name = 'ProvisionError';
  }
}

export interface DeviceRegistration {
  readonly id: string;
  readonly kind: string;
  readonly buildingId: string;
  readonly floor?: number;
  readonly name?: string;
}

export interface BuildingChoice {
  readonly id: string;
  readonly floors: number | null;
}

/**
 * One API request. Network failures and a refused token become a ProvisionError with what to do;
 * any other answer is returned for the caller to judge.
 */
export async function apiCall(api: Api, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: unknown; text: string }> {
  const url = new URL(`/api/v1${path}`, api.url).href;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${api.token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new ProvisionError(`cannot reach the API at ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (response.status === 401 || response.status === 403) {
    throw new ProvisionError(
      `the API refused the token (${method} ${url}: HTTP ${response.status}); pass an admin or integrator token with --token`,
    );
  }
  return { status: response.status, json, text };
}

export function describeFailure(status: number, json: unknown, text: string): string {
  // The API answers errors as { error: { code, message } } (gateway/src/adapters/http/errors.ts).
  const body = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const detail = typeof body?.message === 'string' ? `${String(body.code ?? '')} ${body.message}`.trim() : text.slice(0, 200);
  return `HTTP ${status}${detail ? `: ${detail}` : ''}`;
}

/** The building to place devices in: the one asked for, or the first the API lists. */
export async function chooseBuilding(api: Api, wanted?: string): Promise<BuildingChoice> {
  const [first] = await chooseBuildings(api, 1, wanted);
  return first as BuildingChoice;
}

/**
 * `count` buildings from the registry: the one asked for (count 1), or the first `count` that
 * `GET /api/v1/buildings` lists. Devices may only be placed in buildings the registry has.
 */
export async function chooseBuildings(api: Api, count: number, wanted?: string): Promise<BuildingChoice[]> {
  const { status, json, text } = await apiCall(api, 'GET', '/buildings?limit=1000');
  const items = (json as { items?: unknown } | undefined)?.items;
  if (status !== 200 || !Array.isArray(items)) {
    if (wanted && count === 1) return [{ id: wanted, floors: null }];
    throw new ProvisionError(`cannot list buildings (GET /api/v1/buildings: ${describeFailure(status, json, text)})`);
  }
  const buildings = items.filter(
    (b): b is { id: string; floors?: unknown } => typeof b === 'object' && b !== null && typeof (b as { id?: unknown }).id === 'string',
  );
  const floorsOf = (b: { floors?: unknown }): number | null =>
    typeof b.floors === 'number' && Number.isInteger(b.floors) && b.floors > 0 ? b.floors : null;
  if (wanted) {
    const found = buildings.find((b) => b.id === wanted);
    if (!found) {
      throw new ProvisionError(`building '${wanted}' is not in the gateway's registry (known: ${buildings.map((b) => b.id).join(', ') || 'none'})`);
    }
    if (count > 1) throw new ProvisionError('--building names one building; leave it out to use the first --buildings N');
    return [{ id: found.id, floors: floorsOf(found) }];
  }
  if (buildings.length === 0) throw new ProvisionError('the gateway has no buildings yet: load a site file or create one, or pass --building');
  if (buildings.length < count) {
    throw new ProvisionError(`--buildings ${count} asked for more buildings than the gateway has (${buildings.length}: ${buildings.map((b) => b.id).join(', ')})`);
  }
  return buildings.slice(0, count).map((b) => ({ id: b.id, floors: floorsOf(b) }));
}

/**
 * `perKind` devices of every kind, named `{prefix}{kind}-{n}`, spread over the building's floors.
 * With `buildingInIds` (fleets over several buildings) they are `{prefix}{building}-{kind}-{n}`.
 */
export function planDevices(options: {
  kinds: readonly KindDefinition[];
  perKind: number;
  prefix: string;
  buildingId: string;
  floors: number | null;
  buildingInIds?: boolean;
}): DeviceRegistration[] {
  const plan: DeviceRegistration[] = [];
  const stem = options.buildingInIds ? `${options.prefix}${options.buildingId}-` : options.prefix;
  for (const kind of options.kinds) {
    for (let n = 1; n <= options.perKind; n++) {
      const id = `${stem}${kind.id}-${n}`;
      if (!DEVICE_ID_PATTERN.test(id)) throw new ProvisionError(`device id '${id}' is not valid: choose another --prefix`);
      plan.push({
        id,
        kind: kind.id,
        buildingId: options.buildingId,
        ...(options.floors ? { floor: (plan.length % options.floors) + 1 } : {}),
        name: `Simulated ${kind.title.toLowerCase()} ${n}`,
      });
    }
  }
  return plan;
}

/** Registers each device (POST /api/v1/devices) and collects the secret the API returns once. */
export async function registerDevices(api: Api, plan: readonly DeviceRegistration[]): Promise<FleetDevice[]> {
  const registered: FleetDevice[] = [];
  for (const device of plan) {
    let outcome: Awaited<ReturnType<typeof apiCall>>;
    try {
      outcome = await apiCall(api, 'POST', '/devices', device);
    } catch (err) {
      throw new ProvisionError((err as Error).message, registered);
    }
    const { status, json, text } = outcome;
    const secret = (json as { secret?: unknown } | undefined)?.secret;
    if (status === 201 && typeof secret === 'string' && secret !== '') {
      registered.push({ id: device.id, kind: device.kind, secret });
      continue;
    }
    if (status === 409) {
      throw new ProvisionError(
        `device '${device.id}' already exists: pass --credentials <file> with the secrets of that run, or another --prefix`,
        registered,
      );
    }
    throw new ProvisionError(`registering '${device.id}' failed (${describeFailure(status, json, text)})`, registered);
  }
  return registered;
}

/** A JSON array of {id, kind, secret}, as written by saveCredentials(). */
export async function readCredentials(path: string): Promise<FleetDevice[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ProvisionError(`cannot read credentials from ${path}: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new ProvisionError(`${path} must hold a JSON array of {id, kind, secret}`);
  const problems: string[] = [];
  const devices: FleetDevice[] = [];
  parsed.forEach((entry: unknown, i) => {
    const e = entry as Partial<Record<'id' | 'kind' | 'secret', unknown>> | null;
    if (e && typeof e.id === 'string' && typeof e.kind === 'string' && typeof e.secret === 'string' && e.secret !== '') {
      devices.push({ id: e.id, kind: e.kind, secret: e.secret });
    } else {
      problems.push(`entry ${i} needs string id, kind and secret`);
    }
  });
  if (problems.length > 0) throw new ProvisionError(`${path}: ${problems.join('; ')}`);
  return devices;
}

/** Secrets are credentials: the file is readable by its owner only. */
export async function saveCredentials(path: string, devices: readonly FleetDevice[]): Promise<void> {
  await writeFile(path, `${JSON.stringify(devices, null, 2)}\n`, { mode: 0o600 });
}
