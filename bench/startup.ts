/**
 * Memory and start-up time with many registered devices. The devices are written straight into
 * the registry through the SQLite site store with one precomputed secret hash (scrypt per device
 * would take minutes and measures nothing of the start-up); each start is a fresh child process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hashSecret } from '../gateway/src/adapters/secrets.js';
import { openDatabase } from '../gateway/src/adapters/sqlite/database.js';
import { SqliteSiteStore } from '../gateway/src/adapters/sqlite/site-store.js';
import { KINDS } from '../gateway/src/domain/kinds/index.js';
import { here, median, round } from './common.js';

export interface StartupResult {
  devices: number;
  /** createGateway + start, ms. */
  startMs: number;
  /** Process spawn to started (module loading through tsx included), ms. */
  processMs: number;
  rssMiB: number;
  heapUsedMiB: number;
}

const DEVICES_PER_BUILDING = 200;

/** A data dir with `count` devices in buildings of 200, spread over grids of 50 buildings. */
export async function registerDevices(count: number): Promise<string> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gridwatch-bench-startup-'));
  const db = openDatabase(path.join(dataDir, 'gridwatch.db'));
  const site = new SqliteSiteStore(db);
  const hash = await hashSecret('bench-shared-secret');
  const now = Date.now();
  db.transaction(() => {
    site.upsertStreet({ id: 's', code: '110105001', name: 'Street' });
    site.upsertCommunity({ id: 'c', streetId: 's', code: '110105001001', name: 'Community' });
    const buildings = Math.ceil(count / DEVICES_PER_BUILDING);
    for (let g = 0; g * 50 < buildings; g++) {
      site.upsertGrid({ id: `g${g}`, communityId: 'c', code: `1101050010${String(g).padStart(4, '0')}`, name: `Grid ${g}` });
    }
    for (let b = 0; b < buildings; b++) site.upsertBuilding({ id: `b${b}`, gridId: `g${Math.floor(b / 50)}`, name: `Building ${b}`, address: null, floors: 20 });
    for (let i = 0; i < count; i++) {
      const kind = KINDS[i % KINDS.length]!;
      site.createDevice({ id: `d${i}-${kind.id}`, kind: kind.id, buildingId: `b${Math.floor(i / DEVICES_PER_BUILDING)}`, floor: (i % 20) + 1, name: null, parentId: null }, hash, now);
    }
  })();
  db.close();
  return dataDir;
}

function startOnce(dataDir: string): Promise<StartupResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'startup-child.ts'), dataDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, BENCH_SPAWNED_AT: String(Date.now()) },
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`start-up child exited ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as StartupResult);
    });
  });
}

export async function startup(count: number, reps: number): Promise<StartupResult> {
  const dataDir = await registerDevices(count);
  try {
    const runs: StartupResult[] = [];
    for (let i = 0; i < reps; i++) runs.push(await startOnce(dataDir));
    if (runs[0]!.devices !== count) throw new Error(`expected ${count} devices, the gateway saw ${runs[0]!.devices}`);
    return {
      devices: count,
      startMs: round(median(runs.map((r) => r.startMs))),
      processMs: round(median(runs.map((r) => r.processMs))),
      rssMiB: round(median(runs.map((r) => r.rssMiB))),
      heapUsedMiB: round(median(runs.map((r) => r.heapUsedMiB))),
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
