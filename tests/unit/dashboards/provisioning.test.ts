/** The Grafana provisioning files: an InfluxDB Flux datasource with the fixed uid, and the file provider. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { DATASOURCE_UID } from '../../../dashboards/src/flux.js';
import { FOLDER } from '../../../dashboards/push.js';
import { provisioningDir } from './dashboard-json.js';

const datasources = YAML.parse(readFileSync(new URL('datasources/gridwatch.yaml', provisioningDir), 'utf8')) as {
  apiVersion: number;
  datasources: Record<string, unknown>[];
};
const providers = YAML.parse(readFileSync(new URL('dashboards/gridwatch.yaml', provisioningDir), 'utf8')) as {
  apiVersion: number;
  providers: Record<string, unknown>[];
};

describe('datasource provisioning', () => {
  it('declares one InfluxDB datasource queried with Flux, with the uid the dashboards use', () => {
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources).toHaveLength(1);
    const ds = datasources.datasources[0] as Record<string, unknown>;
    expect(ds).toMatchObject({ uid: DATASOURCE_UID, type: 'influxdb', access: 'proxy', editable: false });
    expect(ds.jsonData).toMatchObject({ version: 'Flux', organization: '${INFLUX_ORG}', defaultBucket: '${INFLUX_BUCKET}' });
  });

  it('takes the token and the connection from the environment, never a literal secret', () => {
    const ds = datasources.datasources[0] as { url: string; secureJsonData: Record<string, string>; jsonData: Record<string, unknown> };
    expect(ds.secureJsonData).toEqual({ token: '${INFLUX_TOKEN}' });
    expect(ds.url).toBe('${INFLUX_URL}');
    expect(JSON.stringify(ds.jsonData)).not.toMatch(/token|password/i);
  });
});

describe('dashboard provider', () => {
  it('reads the mounted dashboards folder into the gridwatch folder (the one dashboards:push uses too)', () => {
    expect(providers.apiVersion).toBe(1);
    const p = providers.providers[0] as { type: string; folderUid: string; options: { path: string }; allowUiUpdates: boolean };
    expect(p.type).toBe('file');
    expect(p.folderUid).toBe(FOLDER.uid);
    expect(p.options.path).toBe('/etc/grafana/dashboards/gridwatch');
    expect(p.allowUiUpdates).toBe(false);
  });
});
