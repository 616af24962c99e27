/**
 * Static checks of the committed dashboard JSON, as Grafana will load it from the provisioned
 * folder: it parses, uids are valid and unique, every datasource exists, every variable used is
 * defined, panels fit the 24-column grid without overlapping, and every query is Flux over the
 * dashboard's time range.
 */
import { describe, expect, it } from 'vitest';
import { allPanels, allStrings, committedDashboards, objectsWith, provisionedDatasourceUids, variableReferences, type Json } from './dashboard-json.js';

const files = committedDashboards();
const dashboards = files.map(({ file, text }) => ({ file, dashboard: JSON.parse(text) as Json }));

describe('committed dashboards', () => {
  it('are there, one per generated view, and every file parses as JSON', () => {
    expect(files.map((f) => f.file)).toEqual(
      ['access-events.json', 'building-overview.json', 'case-kpis.json', 'device-health.json', 'hazards-alerts.json', 'kinds.json'],
    );
    for (const { file, text } of files) expect(() => JSON.parse(text), file).not.toThrow();
  });

  it('have unique, valid uids (at most 40 characters of [a-zA-Z0-9_-]) and the gridwatch tag', () => {
    const uids = dashboards.map((d) => d.dashboard.uid as string);
    expect(new Set(uids).size).toBe(uids.length);
    for (const { file, dashboard } of dashboards) {
      expect(dashboard.uid, file).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
      expect(dashboard.id, file).toBeNull();
      expect(dashboard.schemaVersion, file).toBeGreaterThanOrEqual(39);
      expect(dashboard.tags, file).toContain('gridwatch');
    }
    expect(uids).toContain('gridwatch-building-overview');
  });

  it('refer only to the provisioned datasource, on every data panel and every query', () => {
    const uids = provisionedDatasourceUids();
    for (const { file, dashboard } of dashboards) {
      for (const holder of objectsWith(dashboard, 'datasource')) {
        const ds = holder.datasource as { uid?: string; type?: string };
        expect(uids.has(ds.uid ?? ''), `${file}: datasource ${JSON.stringify(ds)}`).toBe(true);
        expect(ds.type, file).toBe('influxdb');
      }
      for (const panel of allPanels(dashboard)) {
        const targets = (panel.targets ?? []) as Json[];
        if (panel.type === 'row' || panel.type === 'text') continue;
        expect(targets.length, `${file}: ${String(panel.title)}`).toBeGreaterThan(0);
        expect(panel.datasource, `${file}: ${String(panel.title)}`).toBeDefined();
        for (const t of targets) expect(t.datasource, `${file}: ${String(panel.title)}`).toBeDefined();
      }
    }
  });

  it('define every template variable they use, each before the variables that depend on it', () => {
    for (const { file, dashboard } of dashboards) {
      const variables = ((dashboard.templating as { list: Json[] }).list ?? []).map((v) => v);
      const defined = variables.map((v) => v.name as string);
      expect(new Set(defined).size, file).toBe(defined.length);
      for (const text of allStrings({ ...dashboard, templating: undefined })) {
        for (const name of variableReferences(text)) expect(defined, `${file} uses $${name}`).toContain(name);
      }
      variables.forEach((v, i) => {
        for (const name of variableReferences(String(v.query ?? ''))) {
          expect(defined.slice(0, i), `${file}: variable ${String(v.name)} uses $${name}`).toContain(name);
        }
      });
    }
  });

  it('chain street → community → grid → building, and filter devices by kind and device', () => {
    const overview = dashboards.find((d) => d.dashboard.uid === 'gridwatch-building-overview')?.dashboard as Json;
    const names = ((overview.templating as { list: Json[] }).list ?? []).map((v) => v.name);
    expect(names).toEqual(['street', 'community', 'grid', 'building', 'kind', 'device']);
    const byName = new Map(((overview.templating as { list: Json[] }).list ?? []).map((v) => [v.name as string, v]));
    expect(variableReferences(String(byName.get('street')?.query))).toEqual([]);
    expect(variableReferences(String(byName.get('community')?.query))).toEqual(['street']);
    expect(variableReferences(String(byName.get('grid')?.query)).sort()).toEqual(['community', 'street']);
    expect(variableReferences(String(byName.get('building')?.query)).sort()).toEqual(['community', 'grid', 'street']);
    expect(variableReferences(String(byName.get('device')?.query)).sort()).toEqual(['building', 'community', 'grid', 'kind', 'street']);
    for (const v of byName.values()) {
      expect(v.includeAll, String(v.name)).toBe(true);
      expect(v.allValue, String(v.name)).toBe('.*');
    }
  });

  it('place panels inside 24 columns without overlap, with unique panel ids', () => {
    for (const { file, dashboard } of dashboards) {
      const panels = allPanels(dashboard);
      const ids = panels.map((p) => p.id);
      expect(new Set(ids).size, file).toBe(ids.length);
      const boxes = panels.map((p) => ({ title: String(p.title), ...(p.gridPos as { x: number; y: number; w: number; h: number }) }));
      for (const b of boxes) {
        expect(Number.isInteger(b.x) && Number.isInteger(b.y) && Number.isInteger(b.w) && Number.isInteger(b.h), `${file}: ${b.title}`).toBe(true);
        expect(b.x, `${file}: ${b.title}`).toBeGreaterThanOrEqual(0);
        expect(b.y, `${file}: ${b.title}`).toBeGreaterThanOrEqual(0);
        expect(b.w, `${file}: ${b.title}`).toBeGreaterThanOrEqual(1);
        expect(b.h, `${file}: ${b.title}`).toBeGreaterThanOrEqual(1);
        expect(b.x + b.w, `${file}: ${b.title}`).toBeLessThanOrEqual(24);
      }
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const a = boxes[i];
          const b = boxes[j];
          if (!a || !b) continue;
          const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          expect(overlap, `${file}: '${a.title}' overlaps '${b.title}'`).toBe(false);
        }
      }
    }
  });

  it('query with Flux over the default bucket and the dashboard time range', () => {
    for (const { file, dashboard } of dashboards) {
      for (const panel of allPanels(dashboard)) {
        for (const t of (panel.targets ?? []) as Json[]) {
          const q = String(t.query);
          const where = `${file}: ${String(panel.title)}`;
          expect(q, where).toContain('v.timeRangeStart');
          expect(q, where).toContain('v.timeRangeStop');
          expect(q, where).toContain('from(bucket: v.defaultBucket)');
          // Series over time follow Grafana's interval; tables and stats summarise the range.
          if (panel.type === 'timeseries') expect(q, where).toContain('aggregateWindow(every: v.windowPeriod');
          expect(q, where).not.toMatch(/from\(bucket: "/);
        }
      }
      for (const v of (dashboard.templating as { list: Json[] }).list) {
        if (v.type !== 'query') continue;
        expect(v.query, `${file}: $${String(v.name)}`).toContain('start: v.timeRangeStart');
        expect(v.query, `${file}: $${String(v.name)}`).toContain('stop: v.timeRangeStop');
      }
    }
  });
});
