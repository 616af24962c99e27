import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';

// No Docker engine runs here, so the compose file and Dockerfile are checked statically.
const root = new URL('../../../', import.meta.url);

describe('docker-compose.yml', () => {
  const compose = YAML.parse(readFileSync(new URL('docker-compose.yml', root), 'utf8')) as {
    services: Record<string, { build?: string; image?: string; ports?: string[]; volumes?: string[]; environment?: Record<string, string> }>;
    volumes?: Record<string, unknown>;
  };

  it('runs the gateway from the Dockerfile with its ports and a data volume', () => {
    const gw = compose.services.gridwatch;
    expect(gw?.build).toBe('.');
    expect(existsSync(new URL('Dockerfile', root))).toBe(true);
    expect(gw?.ports).toEqual(expect.arrayContaining([expect.stringMatching(/^"?8080:8080/), expect.stringMatching(/^"?1883:1883/)]));
    expect(gw?.environment?.GRIDWATCH_DATA_DIR).toBe('/data');
  });

  it('declares every named volume it mounts', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const v of service.volumes ?? []) {
        const source = v.split(':')[0] ?? '';
        if (!source.startsWith('.') && !source.startsWith('/')) expect(compose.volumes, `${name} mounts ${source}`).toHaveProperty(source);
      }
    }
  });

  it('pins image tags (no implicit latest)', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.image) expect(service.image, name).toMatch(/:[\w.-]+$/);
      if (service.image) expect(service.image, name).not.toMatch(/:latest$/);
    }
  });

  it('never carries a secret value, only references to the environment', () => {
    for (const service of Object.values(compose.services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/TOKEN|PASSWORD|SECRET/.test(key)) expect(value).toMatch(/^\$\{/);
      }
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
  it('uses a pinned Node 20 base and copies every source folder the gateway imports', () => {
    expect(dockerfile).toMatch(/^FROM node:20[\w.-]*/m);
    for (const folder of ['gateway', 'broker', 'simulators']) expect(dockerfile).toContain(`COPY ${folder} ./${folder}`);
  });
});
