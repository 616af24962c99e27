import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_VARIABLES, loadConfig } from '../../../gateway/src/app/config.js';

describe('configuration', () => {
  it('has working embedded defaults with an empty environment', () => {
    const r = loadConfig({});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toMatchObject({
      mode: 'development',
      demo: false,
      http: { port: 8080 },
      mqtt: { port: 1883, url: null, allowAnonymous: false, webSocket: true, tls: null },
      influx: null,
      siteFile: null,
      adminToken: null,
    });
    expect(r.config.dataDir.endsWith('/data')).toBe(true);
  });

  it('reads every documented override', () => {
    const r = loadConfig({
      GRIDWATCH_HTTP_PORT: '9090',
      GRIDWATCH_MQTT_PORT: '0',
      GRIDWATCH_DATA_DIR: '/tmp/gw',
      GRIDWATCH_ADMIN_TOKEN: 'x'.repeat(32),
      GRIDWATCH_MQTT_URL: 'mqtt://broker.local:1883',
      GRIDWATCH_INFLUX_URL: 'http://influx:8086',
      GRIDWATCH_INFLUX_TOKEN: 't',
      GRIDWATCH_INFLUX_ORG: 'o',
      GRIDWATCH_INFLUX_BUCKET: 'b',
      GRIDWATCH_SITE_FILE: 'site.yaml',
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.http.port).toBe(9090);
    expect(r.config.mqtt.port).toBe(0);
    expect(r.config.dataDir).toBe('/tmp/gw');
    expect(r.config.mqtt.url).toBe('mqtt://broker.local:1883');
    expect(r.config.influx).toEqual({ url: 'http://influx:8086', token: 't', org: 'o', bucket: 'b' });
    expect(r.config.siteFile?.endsWith('/site.yaml')).toBe(true);
  });

  it('lists every problem at once instead of stopping at the first', () => {
    const r = loadConfig({
      GRIDWATCH_HTTP_PORT: 'eighty',
      GRIDWATCH_MQTT_PORT: '70000',
      GRIDWATCH_MQTT_ALLOW_ANONYMOUS: 'maybe',
      GRIDWATCH_INFLUX_URL: 'ftp://x',
      GRIDWATCH_ADMIN_TOKEN: 'short',
      GRIDWATCH_MQTT_TLS_PORT: '8883',
      GRIDWATCH_HTTP_PROT: '1',
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toHaveLength(7);
    expect(r.problems.join('\n')).toMatch(/GRIDWATCH_HTTP_PORT[\s\S]*GRIDWATCH_MQTT_PORT|GRIDWATCH_MQTT_PORT[\s\S]*GRIDWATCH_HTTP_PORT/);
    expect(r.problems.some((p) => p.includes('GRIDWATCH_HTTP_PROT') && p.includes('typo'))).toBe(true);
  });

  it('requires token, org and bucket together with an InfluxDB URL', () => {
    const r = loadConfig({ GRIDWATCH_INFLUX_URL: 'http://influx:8086' });
    expect(r.ok ? [] : r.problems).toHaveLength(3);
  });

  it('refuses anonymous MQTT, demo mode and a generated admin token in production', () => {
    const r = loadConfig({ GRIDWATCH_MODE: 'production', GRIDWATCH_MQTT_ALLOW_ANONYMOUS: 'true', GRIDWATCH_DEMO: 'true' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('ALLOW_ANONYMOUS'),
        expect.stringContaining('demo'),
        expect.stringContaining('GRIDWATCH_ADMIN_TOKEN'),
      ]),
    );
  });

  it('turns demo mode on from the command line', () => {
    const r = loadConfig({}, ['--demo']);
    expect(r.ok && r.config.demo).toBe(true);
  });

  it('documents every variable in the README configuration table', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const missing = Object.keys(ENV_VARIABLES).filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
