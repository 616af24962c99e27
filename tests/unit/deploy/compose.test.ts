/**
 * docker-compose.yml, .env.example, the Dockerfile and .dockerignore, checked statically (no
 * Docker engine runs in the npm test tier): pinned images, every variable documented, every
 * mounted path present, healthchecks and start order, and the gateway's environment limited to
 * settings the gateway knows (it refuses unknown GRIDWATCH_ variables at start).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { ENV_VARIABLES } from '../../../gateway/src/app/config.js';

const root = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

interface Service {
  build?: string;
  image?: string;
  init?: boolean;
  profiles?: string[];
  command?: string[] | string;
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string; interval?: string };
}

const composeText = read('docker-compose.yml');
/** The file without comment lines, which compose does not interpolate. */
const composeValues = composeText
  .split('\n')
  .filter((l) => !l.trim().startsWith('#'))
  .join('\n');
const compose = YAML.parse(composeText) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = Object.entries(compose.services);
const service = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`no service ${name}`);
  return s;
};
const packageJson = JSON.parse(read('package.json')) as { version: string; dependencies: Record<string, string> };

/** KEY=value lines of .env.example (comments and blank lines skipped). */
const envExample = new Map(
  read('.env.example')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
);

/** Names of `${VAR}`, `${VAR:-default}`, `${VAR:?message}` and `$VAR` (not `$$`, compose's escape). */
function interpolated(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/(?<!\$)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))/g)) names.add((m[1] ?? m[2]) as string);
  return names;
}

/** `source:target[:mode]` of a volume entry. */
function mount(entry: string): { source: string; target: string; mode: string | undefined } {
  const [source = '', target = '', mode] = entry.split(':');
  return { source, target, mode };
}

describe('docker-compose.yml', () => {
  it('runs the gateway, InfluxDB and Grafana, and the simulator only under its profile', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['grafana', 'gridwatch', 'influxdb', 'simulator']);
    expect(service('simulator').profiles).toEqual(['simulator']);
    for (const name of ['gridwatch', 'influxdb', 'grafana']) expect(service(name).profiles, name).toBeUndefined();
  });

  it('pins every image to an exact version: influxdb 2.7.x, grafana 11.x.y, gridwatch at the package version', () => {
    for (const [name, s] of services) {
      expect(s.image, name).toMatch(/^[a-z0-9./-]+:\d+\.\d+\.\d+$/);
      expect(s.image, name).not.toMatch(/latest/);
    }
    expect(service('influxdb').image).toMatch(/^influxdb:2\.7\.\d+$/);
    expect(service('grafana').image).toMatch(/^grafana\/grafana:11\.\d+\.\d+$/);
    for (const name of ['gridwatch', 'simulator']) {
      expect(service(name).build, name).toBe('.');
      expect(service(name).image, name).toBe(`gridwatch:${packageJson.version}`);
    }
  });

  it('documents every variable it interpolates in .env.example, and .env.example holds nothing unused', () => {
    const used = interpolated(composeValues);
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) expect(envExample.has(name), `${name} missing from .env.example`).toBe(true);
    const elsewhere = read('dashboards/push.ts');
    for (const name of envExample.keys()) {
      expect(used.has(name) || elsewhere.includes(name), `${name} in .env.example is used nowhere`).toBe(true);
    }
  });

  it('takes every secret from the environment and stops when it is unset; .env.example carries none', () => {
    for (const [name, s] of services) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (/TOKEN|PASSWORD|SECRET/.test(key)) expect(value, `${name}.${key}`).toMatch(/^\$\{[A-Z_]+:\?[^}]+\}$/);
      }
    }
    for (const [key, value] of envExample) {
      if (/TOKEN|PASSWORD|SECRET/.test(key)) expect(value, key).toBe('');
    }
  });

  it('mounts only paths that exist in the repository, Grafana\'s read-only, and declares every named volume', () => {
    for (const [name, s] of services) {
      for (const entry of s.volumes ?? []) {
        const { source } = mount(entry);
        if (source.startsWith('./')) expect(existsSync(new URL(source, root)), `${name} mounts ${source}`).toBe(true);
        else expect(compose.volumes, `${name} mounts ${source}`).toHaveProperty(source);
      }
    }
    const grafanaBinds = (service('grafana').volumes ?? []).map(mount).filter((m) => m.source.startsWith('./'));
    expect(grafanaBinds.map((m) => m.source).sort()).toEqual([
      './dashboards/grafana/dashboards',
      './dashboards/grafana/provisioning/dashboards',
      './dashboards/grafana/provisioning/datasources',
    ]);
    for (const m of grafanaBinds) expect(m.mode, m.source).toBe('ro');
  });

  it('gives Grafana the dashboards where the file provider looks for them', () => {
    const provider = YAML.parse(read('dashboards/grafana/provisioning/dashboards/gridwatch.yaml')) as { providers: { options: { path: string } }[] };
    const target = (service('grafana').volumes ?? []).map(mount).find((m) => m.source === './dashboards/grafana/dashboards')?.target;
    expect(target).toBe(provider.providers[0]?.options.path);
    expect(service('grafana').environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(`${target}/building-overview.json`);
    expect(existsSync(new URL('dashboards/grafana/dashboards/building-overview.json', root))).toBe(true);
  });

  it('sets in Grafana\'s environment every variable the provisioning files expand', () => {
    const dir = new URL('dashboards/grafana/provisioning/', root);
    const env = service('grafana').environment ?? {};
    for (const sub of ['datasources', 'dashboards']) {
      for (const file of readdirSync(new URL(`${sub}/`, dir))) {
        const text = readFileSync(new URL(`${sub}/${file}`, dir), 'utf8')
          .split('\n')
          .filter((l) => !l.trim().startsWith('#'))
          .join('\n');
        for (const name of interpolated(text)) expect(env, `${sub}/${file} expands $${name}`).toHaveProperty(name);
      }
    }
    expect(env.INFLUX_URL).toBe('http://influxdb:8086');
  });

  it('uses in the dashboards the datasource uid the provisioning declares', () => {
    const ds = YAML.parse(read('dashboards/grafana/provisioning/datasources/gridwatch.yaml')) as { datasources: { uid: string }[] };
    const declared = new Set(ds.datasources.map((d) => d.uid));
    const dir = new URL('dashboards/grafana/dashboards/', root);
    const used = new Set<string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      for (const m of readFileSync(new URL(file, dir), 'utf8').matchAll(/"datasource": \{\s*"type": "[^"]+",\s*"uid": "([^"]+)"/g)) used.add(m[1] as string);
    }
    expect([...used]).toEqual(['gridwatch-influx']);
    for (const uid of used) expect(declared.has(uid), uid).toBe(true);
  });

  it('health-checks every long-running service and starts each after what it needs is healthy', () => {
    for (const name of ['gridwatch', 'influxdb', 'grafana']) expect(service(name).healthcheck?.test, name).toBeDefined();
    expect(JSON.stringify(service('gridwatch').healthcheck?.test)).toContain('/health');
    expect(service('influxdb').healthcheck?.test).toEqual(['CMD', 'influx', 'ping']);
    expect(JSON.stringify(service('grafana').healthcheck?.test)).toContain('/api/health');
    for (const [name, s] of services) {
      for (const [target, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(compose.services, `${name} depends on ${target}`).toHaveProperty(target);
        expect(condition, `${name} → ${target}`).toBe('service_healthy');
        expect(compose.services[target]?.healthcheck, `${target} has a healthcheck`).toBeDefined();
      }
    }
    expect(Object.keys(service('gridwatch').depends_on ?? {})).toEqual(['influxdb']);
    expect(Object.keys(service('simulator').depends_on ?? {})).toEqual(['gridwatch']);
  });

  it('configures the gateway with settings it knows, writing to the influxdb service', () => {
    const gw = service('gridwatch');
    const env = gw.environment ?? {};
    for (const key of Object.keys(env)) {
      if (key.startsWith('GRIDWATCH_')) expect(Object.keys(ENV_VARIABLES), key).toContain(key);
    }
    expect(env.GRIDWATCH_INFLUX_URL).toBe('http://influxdb:8086');
    expect(env.GRIDWATCH_INFLUX_TOKEN).toMatch(/^\$\{INFLUX_TOKEN:\?/);
    expect(env.GRIDWATCH_INFLUX_ORG).toBe('${INFLUX_ORG:-gridwatch}');
    expect(env.GRIDWATCH_INFLUX_BUCKET).toBe('${INFLUX_BUCKET:-gridwatch}');
    expect(env.GRIDWATCH_DATA_DIR).toBe('/data');
    expect(gw.volumes).toContain('gridwatch-data:/data');
    expect(gw.ports).toEqual(expect.arrayContaining(['8080:8080', '1883:1883']));
    const siteFile = envExample.get('GRIDWATCH_SITE_FILE') ?? '';
    if (siteFile !== '') expect(existsSync(new URL(siteFile, root)), siteFile).toBe(true);
  });

  it('sets InfluxDB up on first start with the same organisation, bucket and token as the gateway', () => {
    const env = service('influxdb').environment ?? {};
    expect(env.DOCKER_INFLUXDB_INIT_MODE).toBe('setup');
    for (const key of ['USERNAME', 'PASSWORD', 'ORG', 'BUCKET', 'RETENTION', 'ADMIN_TOKEN']) {
      expect(env[`DOCKER_INFLUXDB_INIT_${key}`], key).toMatch(/^\$\{[A-Z_]+:[-?]/);
    }
    expect(env.DOCKER_INFLUXDB_INIT_ORG).toBe(service('gridwatch').environment?.GRIDWATCH_INFLUX_ORG);
    expect(env.DOCKER_INFLUXDB_INIT_BUCKET).toBe(service('gridwatch').environment?.GRIDWATCH_INFLUX_BUCKET);
    expect(env.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN).toBe(service('gridwatch').environment?.GRIDWATCH_INFLUX_TOKEN);
    expect(service('influxdb').volumes?.map((v) => mount(v).target).sort()).toEqual(['/etc/influxdb2', '/var/lib/influxdb2']);
  });

  it('runs the simulator CLI against the gateway service with options the CLI declares', () => {
    const sim = service('simulator');
    const command = sim.command as string[];
    expect(command.slice(0, 4)).toEqual(['npm', 'run', 'simulate', '--']);
    expect(command[command.indexOf('--mqtt-url') + 1]).toBe('mqtt://gridwatch:1883');
    expect(command[command.indexOf('--api-url') + 1]).toBe('http://gridwatch:8080');
    const cli = read('simulators/src/cli.ts');
    for (const option of command.filter((c) => c.startsWith('--') && c !== '--')) expect(cli, option).toContain(`'${option} `);
    // The token travels as GRIDWATCH_TOKEN, the CLI's default for --token.
    expect(sim.environment?.GRIDWATCH_TOKEN).toMatch(/^\$\{GRIDWATCH_ADMIN_TOKEN:\?/);
    expect(cli).toContain('io.env.GRIDWATCH_TOKEN');
    expect(JSON.parse(read('package.json')).scripts.simulate).toBeDefined();
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1] as string);

  it('builds on an exactly pinned Node 20 image', () => {
    expect(froms.length).toBeGreaterThan(0);
    for (const image of froms) expect(image).toMatch(/^node:20\.\d+\.\d+-[a-z]+(-slim)?$/);
  });

  it('runs as a non-root user with a health check and the gateway through tsx', () => {
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const user = /^USER\s+(\S+)/m.exec(runtime)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n?.*\/health/m);
    expect(runtime).toMatch(/^CMD \["node", "--import", "tsx", "gateway\/src\/app\/main\.ts"\]/m);
  });

  it('copies every source folder the gateway and the simulator import', () => {
    for (const folder of ['gateway', 'broker', 'simulators']) expect(dockerfile).toContain(`COPY ${folder} ./${folder}`);
  });

  it('installs production dependencies only while tsx, which runs the gateway, is one of them', () => {
    expect(dockerfile).toContain('npm ci --omit=dev');
    expect(packageJson.dependencies).toHaveProperty('tsx');
  });

  it('keeps secrets, local data and dependencies of the host out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const entry of ['.env', 'node_modules', 'data', '.git']) expect(ignored, entry).toContain(entry);
  });
});
