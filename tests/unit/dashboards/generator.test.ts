/**
 * The generator: panels follow the kind registry (a kind added with defineKind gets its row and
 * panels with no dashboard edit), units map to Grafana ids, output is deterministic, and the
 * committed JSON is exactly what the generator produces (`npm run dashboards -- --check`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { defineKind, type KindDefinition } from '../../../gateway/src/domain/kind.js';
import { KINDS } from '../../../gateway/src/domain/kinds/index.js';
import { alarm, battery, batteryPowered, heartbeat, numeric, temperature, trouble } from '../../../gateway/src/domain/kinds/factories.js';
import { DASHBOARDS_DIR, findDrift, main, writeDashboards } from '../../../dashboards/generate.js';
import { buildDashboards, renderDashboards } from '../../../dashboards/src/catalog.js';
import { kindRowTitle } from '../../../dashboards/src/boards/kinds.js';
import { GridLayout } from '../../../dashboards/src/layout.js';
import type { DataPanel, Dashboard, Panel } from '../../../dashboards/src/model.js';
import { grafanaUnit } from '../../../dashboards/src/units.js';
import { root } from './dashboard-json.js';

/** A kind the registry does not have, declared the way a kind file declares one. */
const waterLeakKind = defineKind({
  id: 'water-leak',
  title: 'Water leak sensor',
  titleZh: '水浸传感器',
  description: 'Battery-powered floor sensor for pump rooms and basements.',
  measurements: [
    numeric('humidity', 'Relative humidity', '相对湿度', '%RH', 0, 100),
    temperature(-20, 60),
    numeric('water_level', 'Water level', '水位', 'mm', 0, 500, { integer: true }),
    battery(),
  ],
  events: [alarm('leak.detected', 'Leak detected', '漏水报警'), trouble('probe.fault', 'Probe fault', '探头故障'), heartbeat()],
  heartbeat: batteryPowered(1800),
  sample: { telemetry: () => ({ humidity: 40 }), event: () => ({ type: 'heartbeat' }) },
});

function byUid(dashboards: readonly { dashboard: Dashboard }[], uid: string): Dashboard {
  const d = dashboards.find((g) => g.dashboard.uid === uid)?.dashboard;
  if (!d) throw new Error(`no dashboard ${uid}`);
  return d;
}

/** The panels under a row, up to the next row. */
function panelsOfRow(panels: readonly Panel[], rowTitle: string): Panel[] {
  const start = panels.findIndex((p) => p.type === 'row' && p.title === rowTitle);
  if (start < 0) return [];
  const next = panels.findIndex((p, i) => i > start && p.type === 'row');
  return panels.slice(start + 1, next < 0 ? undefined : next);
}

function queryOf(p: Panel): string {
  return p.type === 'row' || p.type === 'text' ? '' : (p.targets[0]?.query ?? '');
}

describe('dashboards follow the kind registry', () => {
  const kinds: readonly KindDefinition[] = [...KINDS, waterLeakKind];
  const generated = buildDashboards(kinds);

  it('gives every kind a row and every declared measurement a time series panel with its unit and range', () => {
    const panels = byUid(generated, 'gridwatch-kinds').panels;
    for (const kind of kinds) {
      const row = panelsOfRow(panels, kindRowTitle(kind));
      expect(row.length, kind.id).toBe(kind.measurements.length);
      for (const m of kind.measurements) {
        const panel = row.find((p) => queryOf(p).includes(`r._measurement == "${kind.id}" and r._field == "${m.name}"`)) as DataPanel | undefined;
        expect(panel, `${kind.id}.${m.name}`).toBeDefined();
        expect(panel?.type).toBe('timeseries');
        expect(panel?.fieldConfig.defaults.unit).toBe(grafanaUnit(m.unit));
        expect(panel?.fieldConfig.defaults.min).toBe(m.min);
        expect(panel?.fieldConfig.defaults.max).toBe(m.max);
        if (m.integer) expect(panel?.fieldConfig.defaults.decimals).toBe(0);
      }
    }
  });

  it('takes a new kind into the kind variable, the overview, the offline thresholds and the battery panel', () => {
    const kindVariable = byUid(generated, 'gridwatch-building-overview').templating.list.find((v) => v.name === 'kind');
    expect(kindVariable?.query).toBe('smoke,door,face-gate,camera,water-leak');
    const overviewQueries = byUid(generated, 'gridwatch-building-overview').panels.map(queryOf).join('\n');
    expect(overviewQueries).toContain('|water-leak|device_event)$/');
    const health = byUid(generated, 'gridwatch-device-health').panels;
    const offline = health.find((p) => p.title === 'Offline devices');
    expect(queryOf(offline as Panel)).toContain('"water-leak": 5400');
    const batteryPanel = health.find((p) => p.title === 'Battery level (latest)');
    expect(queryOf(batteryPanel as Panel)).toContain('r._measurement =~ /^(smoke|door|water-leak)$/ and r._field == "battery"');
    // Its alarm-class event types get titles in the alarm table.
    expect(JSON.stringify(byUid(generated, 'gridwatch-hazards-alerts'))).toContain('Leak detected 漏水报警 (leak.detected)');
  });

  it('leaves the access dashboard to door and face-gate kinds, one row each with counts by type', () => {
    const panels = byUid(generated, 'gridwatch-access-events').panels;
    const rows = panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows).toEqual(['Door access controller 门禁控制器 · door', 'Face-recognition gate 人脸识别闸机 · face-gate']);
    for (const id of ['door', 'face-gate']) {
      const counts = panels.find((p) => queryOf(p).includes(`r.kind == "${id}"`) && queryOf(p).includes('group(columns: ["type"])'));
      expect(counts, id).toBeDefined();
    }
  });

  it('charts case_event: opened and closed per period, overdue rungs, by category, with the state codes named', () => {
    const panels = byUid(generated, 'gridwatch-case-kpis').panels;
    const queries = panels.map(queryOf);
    expect(queries.filter((q) => q !== '').every((q) => q.includes('r._measurement == "case_event"'))).toBe(true);
    const titles = panels.map((p) => p.title);
    expect(titles).toEqual(expect.arrayContaining(['Opened 上报', 'Closed 结案', 'Overdue rungs 超期', 'Opened and closed 上报与结案', 'Opened by category']));
    expect(queries.some((q) => q.includes('r.event == "opened" or r.event == "close"') && q.includes('aggregateWindow'))).toBe(true);
    expect(queries.some((q) => q.includes('r.event == "overdue_escalated"') && q.includes('group(columns: ["category"])'))).toBe(true);
    const table = panels.find((p) => p.type === 'table');
    expect(JSON.stringify(table)).toContain('"11":{"text":"closed 结案"');
  });

  it('is deterministic: the same kinds give the same bytes', () => {
    expect([...renderDashboards(kinds)]).toEqual([...renderDashboards(kinds)]);
  });
});

describe('units and layout', () => {
  it('maps kind units to Grafana unit ids, and unknown units to a suffix', () => {
    expect(grafanaUnit('%')).toBe('percent');
    expect(grafanaUnit('°C')).toBe('celsius');
    expect(grafanaUnit('dBm')).toBe('dBm');
    expect(grafanaUnit('ppm')).toBe('ppm');
    expect(grafanaUnit('s')).toBe('s');
    expect(grafanaUnit('V')).toBe('volt');
    expect(grafanaUnit('kbit/s')).toBe('Kbits');
    expect(grafanaUnit('GB')).toBe('decgbytes');
    expect(grafanaUnit('dB/m')).toBe('suffix: dB/m');
    expect(grafanaUnit('fps')).toBe('suffix: fps');
  });

  it('wraps to a new line when a panel would pass column 24, and refuses a panel wider than the grid', () => {
    const layout = new GridLayout();
    expect(layout.place(16, 8)).toEqual({ x: 0, y: 0, w: 16, h: 8 });
    expect(layout.place(8, 4)).toEqual({ x: 16, y: 0, w: 8, h: 4 });
    expect(layout.place(8, 4)).toEqual({ x: 0, y: 8, w: 8, h: 4 });
    expect(layout.row()).toEqual({ x: 0, y: 12, w: 24, h: 1 });
    expect(layout.place(24, 2)).toEqual({ x: 0, y: 13, w: 24, h: 2 });
    expect(() => layout.place(25, 2)).toThrow(/24-column/);
  });
});

describe('drift check', () => {
  const temps: string[] = [];
  afterEach(async () => {
    for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gridwatch-dashboards-'));
    temps.push(dir);
    return dir;
  }

  it('finds the committed JSON equal to what the generator produces from the registry', async () => {
    expect(await findDrift(DASHBOARDS_DIR)).toEqual({ changed: [], missing: [], stale: [] });
  });

  it('exits 1 on a changed, a missing or a stale file, and 0 once regenerated', async () => {
    const dir = await tempDir();
    const lines: string[] = [];
    const io = { log: (l: string) => lines.push(l) };
    await writeDashboards(dir);
    expect(await main(['--check', '--out', dir], io)).toBe(0);

    const overview = path.join(dir, 'building-overview.json');
    await writeFile(overview, (await readFile(overview, 'utf8')).replace('Devices reporting', 'Devices online'));
    await rm(path.join(dir, 'kinds.json'));
    await writeFile(path.join(dir, 'old-dashboard.json'), '{}\n');
    expect(await main(['--check', '--out', dir], io)).toBe(1);
    expect(lines.join('\n')).toContain('building-overview.json differs');
    expect(lines.join('\n')).toContain('kinds.json is missing');
    expect(lines.join('\n')).toContain('old-dashboard.json is no longer generated');

    expect(await main(['--out', dir], io)).toBe(0);
    expect(await main(['--check', '--out', dir], io)).toBe(0);
    expect((await readdir(dir)).sort()).toEqual([...renderDashboards(KINDS).keys()].sort());
  });

  it('reports drift when the registry gains a kind the committed JSON lacks', async () => {
    const lines: string[] = [];
    expect(await main(['--check'], { log: (l) => lines.push(l) }, [...KINDS, waterLeakKind])).toBe(1);
    expect(lines.join('\n')).toContain('kinds.json differs');
  });

  it('refuses unknown options with exit code 2', async () => {
    const lines: string[] = [];
    expect(await main(['--chek'], { log: (l) => lines.push(l) })).toBe(2);
    expect(lines.join('\n')).toMatch(/chek/);
  });

  it('runs as `npm run dashboards -- --check` does (tsx, exit status 0 on the committed tree)', () => {
    const cwd = fileURLToPath(root);
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'dashboards/generate.ts', '--check'], { cwd, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('up to date');
    expect(run.status).toBe(0);
  });
});
