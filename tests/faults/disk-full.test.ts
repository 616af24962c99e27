/**
 * The data dir runs out of space (a 4 MiB tmpfs, filled up by another file): SQLite commits of
 * readings fail with "database or disk is full". The gateway must say so (health turns red with
 * the error, 503), keep the readings it could not write, and write them all once space is back:
 * no silent loss. Needs root for the tmpfs mount (CI runs as root); the mount is removed after.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, until, type Harness } from '../support/gateway-harness.js';
import { report } from './support/figures.js';

describe('disk full under the data dir', () => {
  const mountPoint = mkdtempSync(path.join(tmpdir(), 'gridwatch-tmpfs-'));
  const dataDir = path.join(mountPoint, 'data');
  const filler = path.join(mountPoint, 'filler');
  let h: Harness;
  let mounted = false;

  beforeAll(async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint]);
    mounted = true;
    mkdirSync(dataDir);
    h = await startHarness({}, { dataDir });
  });
  afterAll(async () => {
    await h?.close().catch(() => undefined);
    if (mounted) execFileSync('umount', ['-l', mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it('turns health red with the error while the disk is full, keeps the readings and writes them all once space is back', async ({ task }) => {
    const secret = await h.register('disk-1', 'smoke');
    const device = await h.connect('disk-1', secret);
    expect((await h.api('GET', '/health')).status).toBe(200);

    // Fill the file system, leaving nothing for the database to grow into.
    const free = () => {
      const s = statfsSync(mountPoint);
      return s.bavail * s.bsize;
    };
    writeFileSync(filler, Buffer.alloc(Math.max(0, free() - 4096)));
    for (let i = 0; free() > 0 && i < 64; i++) writeFileSync(`${filler}-${i}`, Buffer.alloc(Math.min(free(), 4096)));

    const total = 3000;
    const t0 = Date.now();
    // QoS 1 is acknowledged only once stored, so while the disk is full the acknowledgements wait
    // (backpressure) instead of promising what the gateway cannot keep: publish without waiting.
    let acked = 0;
    const acks: Array<Promise<unknown>> = [];
    for (let seq = 1; seq <= total; seq++) {
      acks.push(device.publishAsync('gridwatch/v1/disk-1/telemetry', JSON.stringify({ ts: t0 + seq, seq, temperature: 20, battery: 90, rssi: -70 }), { qos: 1 }).then(() => acked++));
    }
    await until(() => h.gateway.pipeline.counts.accepted > 0, 'readings to arrive');
    // A forced flush reports the failure instead of hiding it.
    const sqlite = h.gateway.sinks.find((s) => s.name === 'sqlite')!;
    await until(async () => (await sqlite.flush().then(() => false, () => true)), 'the write to fail for lack of space', 15_000);
    const ackedWhileFull = acked;
    expect(ackedWhileFull).toBeLessThan(total);
    const red = await h.api('GET', '/health');
    expect(red.status).toBe(503);
    expect(red.body.status).toBe('down');
    expect(red.body.checks['sink:sqlite'].ok).toBe(false);
    expect(red.body.checks['sink:sqlite'].detail).toMatch(/full/i);
    const pendingWhileFull = red.body.checks['sink:sqlite'].pending as number;
    expect(pendingWhileFull).toBeGreaterThan(0);

    // Space comes back: everything held is written, nothing was dropped.
    rmSync(filler, { force: true });
    for (let i = 0; i < 64; i++) rmSync(`${filler}-${i}`, { force: true });
    await until(async () => (await h.api('GET', '/health')).status === 200, 'health to turn green again', 15_000);
    await Promise.all(acks);
    expect(acked).toBe(total);
    expect(h.gateway.pipeline.counts.accepted).toBe(total);
    await sqlite.flush();
    const db = new Database(path.join(dataDir, 'gridwatch.db'), { readonly: true });
    const rows = (db.prepare("SELECT count(DISTINCT seq) AS n FROM readings WHERE device_id = 'disk-1'").get() as { n: number }).n;
    db.close();
    expect(sqlite.health().detail).not.toMatch(/dropped/);
    await device.endAsync();
    report(task, {
      scenario: 'disk full (4 MiB tmpfs)',
      tried: total,
      accepted: h.gateway.pipeline.counts.accepted,
      lost: total - rows,
      notes: { pendingWhileFull, ackedWhileFull, healthWhileFull: `${red.status} ${red.body.status}` },
    });
    expect(rows).toBe(total);
  });
});
