/**
 * Alert state changes reach InfluxDB as `alert_event` points with hierarchy tags: a scenario runs
 * against an in-process gateway whose alert changes are handed to an InfluxSink (the wiring the
 * composition root uses), and a real HTTP server on loopback plays InfluxDB's /api/v2/write.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { InfluxSink } from '../../../gateway/src/adapters/influx/influx-sink.js';
import { alertChangeToLine } from '../../../gateway/src/adapters/influx/line-protocol.js';
import type { HierarchyPlace } from '../../../gateway/src/domain/message.js';
import type { SiteStore } from '../../../gateway/src/ports.js';
import { runScenario } from '../../../simulators/src/scenario-runner.js';
import { scenarioById } from '../../../simulators/src/scenarios/index.js';
import { ADMIN_TOKEN, ManualClock, startHarness, until, type Harness } from '../../support/gateway-harness.js';

/** The building → hierarchy lookup the composition root passes to ingest as `place`. */
function placeOf(site: Pick<SiteStore, 'building' | 'grids' | 'communities'>, buildingId: string): HierarchyPlace | undefined {
  const building = site.building(buildingId);
  if (building === undefined) return undefined;
  const grid = site.grids().find((g) => g.id === building.gridId);
  const community = grid ? site.communities().find((c) => c.id === grid.communityId) : undefined;
  return { gridId: building.gridId, communityId: grid?.communityId, streetId: community?.streetId };
}

let h: Harness | undefined;
let sink: InfluxSink | undefined;
let server: Server | undefined;

afterEach(async () => {
  await sink?.close();
  sink = undefined;
  await h?.close();
  h = undefined;
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

describe('alert changes in InfluxDB', () => {
  it('writes one alert_event per state change with building, grid, community and street tags', async () => {
    const lines: string[] = [];
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        lines.push(...body.toString('utf8').split('\n').filter(Boolean));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const influxUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const clock = new ManualClock(Date.parse('2026-11-26T03:00:00Z'));
    const harness = await startHarness({}, { clock });
    h = harness;
    const influx = new InfluxSink({ url: influxUrl, token: 't', org: 'o', bucket: 'b', spoolFile: path.join(harness.dataDir, 'alert-spool.db'), flushIntervalMs: 0, clock });
    sink = influx;
    const places = new Map<string, HierarchyPlace | undefined>();
    const place = (buildingId: string) => {
      if (!places.has(buildingId)) places.set(buildingId, placeOf(harness.gateway.site, buildingId));
      return places.get(buildingId);
    };
    harness.gateway.alerting.onChange((change) => influx.writeLines([alertChangeToLine(change, place(change.alert.source.buildingId))]));

    const received = harness.gateway.pipeline.counts.received;
    const report = await runScenario({
      scenario: scenarioById('stranger')!,
      mqttUrl: harness.gateway.mqttUrl(),
      api: { url: harness.gateway.httpUrl(), token: ADMIN_TOKEN },
      clock,
      advance: async (ms, { published }) => {
        await until(() => harness.gateway.pipeline.counts.received >= received + published, 'ingest');
        clock.advance(ms);
      },
      check: { timeoutMs: 2_000, pollMs: 20 },
    });
    expect(report.outcome?.pass).toBe(true);
    await influx.drain();

    const alertLines = lines.filter((l) => l.startsWith('alert_event,'));
    const tags = 'building=b1,class=supervisory,community=c1,event=%s,grid=g1,kind=face-gate,street=s1,type=face.stranger';
    // A stranger is momentary: raised, and returned at once (unacknowledged).
    expect(alertLines).toEqual([
      expect.stringMatching(new RegExp(`^alert_event,${tags.replace('%s', 'raised')} count=1i,escalation_level=0i,state=1i \\d{13}$`)),
      expect.stringMatching(new RegExp(`^alert_event,${tags.replace('%s', 'returned')} count=1i,escalation_level=0i,state=3i \\d{13}$`)),
    ]);
    expect(alertLines[0]!.endsWith(` ${clock.now()}`)).toBe(true);
    expect(placeOf(harness.gateway.site, 'nowhere')).toBeUndefined();
  });
});
