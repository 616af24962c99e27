import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../gateway/src/app/config.js';
import { createGateway } from '../../../gateway/src/app/gateway.js';
import { settle, startHarness, until } from '../../support/gateway-harness.js';

describe('demo mode', () => {
  it('loads the demo site and its simulated sensors produce readings visible through the API', async () => {
    const h = await startHarness({ GRIDWATCH_DEMO: 'true' }, { demoTelemetryEverySeconds: 0.2 });
    try {
      const buildings = await h.api('GET', '/api/v1/buildings');
      expect(buildings.body.items.map((b: { id: string }) => b.id)).toEqual(expect.arrayContaining(['dy-b1', 'dy-b2', 'dy-b5', 'xl-b3']));
      await until(() => h.gateway.pipeline.counts.accepted >= 20, 'demo readings to arrive', 15_000);
      await settle(h.gateway);
      const readings = await h.api('GET', '/api/v1/devices/dy-b1-smoke-03/readings');
      expect(readings.status).toBe(200);
      expect(readings.body.items.length).toBeGreaterThan(0);
      const c = h.gateway.pipeline.counts;
      expect(c.rejected).toBe(0);
    } finally {
      await h.close();
    }
  });
});

describe('admin token', () => {
  it('is generated once on first start, stored hashed, and not again on the next start', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gridwatch-token-'));
    const env = { GRIDWATCH_DATA_DIR: dataDir, GRIDWATCH_HTTP_PORT: '0', GRIDWATCH_MQTT_PORT: '0', GRIDWATCH_HTTP_HOST: '127.0.0.1', GRIDWATCH_MQTT_HOST: '127.0.0.1', GRIDWATCH_LOG_LEVEL: 'silent' };
    const r = loadConfig(env);
    if (!r.ok) throw new Error(r.problems.join());
    try {
      const first = await createGateway({ config: r.config });
      const token = first.generatedAdminToken;
      expect(token).toMatch(/^gw_[A-Za-z0-9_-]{40,}$/);
      await first.start();
      const ok = await fetch(`${first.httpUrl()}/api/v1/devices`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      await first.stop();

      const second = await createGateway({ config: r.config });
      expect(second.generatedAdminToken).toBeNull();
      await second.start();
      const still = await fetch(`${second.httpUrl()}/api/v1/devices`, { headers: { authorization: `Bearer ${token}` } });
      expect(still.status).toBe(200);
      const wrong = await fetch(`${second.httpUrl()}/api/v1/devices`, { headers: { authorization: 'Bearer gw_nope' } });
      expect(wrong.status).toBe(401);
      await second.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
