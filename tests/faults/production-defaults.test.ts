/**
 * Production mode refuses unsafe settings at start, from the real entry point (main.ts as a child
 * process): anonymous MQTT, demo mode, a missing or short admin token. Exit status 2 and every
 * problem listed at once, so an operator fixes them in one go.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { report } from './support/figures.js';

const MAIN = path.resolve('gateway/src/app/main.ts');

function runMain(env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    // A clean environment: only what the process needs to run, plus the settings under test.
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

describe('production mode refuses unsafe defaults (main.ts as a child process)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gridwatch-prod-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('exits 2 listing anonymous MQTT, demo mode and the missing admin token together', async ({ task }) => {
    const run = await runMain({ GRIDWATCH_MODE: 'production', GRIDWATCH_MQTT_ALLOW_ANONYMOUS: 'true', GRIDWATCH_DATA_DIR: dataDir, GRIDWATCH_HTTP_PORT: '0', GRIDWATCH_MQTT_PORT: '0' }, ['--demo']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('configuration has 3 problem(s)');
    expect(run.stderr).toContain('GRIDWATCH_MQTT_ALLOW_ANONYMOUS=true is refused in production mode');
    expect(run.stderr).toContain('demo mode is refused in production mode');
    expect(run.stderr).toContain('production mode needs GRIDWATCH_ADMIN_TOKEN');
    expect(run.stdout).not.toContain('gridwatch is running');
    report(task, { scenario: 'production mode, unsafe settings', notes: { exitCode: String(run.code), problemsListed: 3 } });
  });

  it('exits 2 for a short admin token and a misspelt setting, listing both', async () => {
    const run = await runMain({ GRIDWATCH_MODE: 'production', GRIDWATCH_ADMIN_TOKEN: 'admin', GRIDWATCH_ADMIN_TOKNE: 'typo', GRIDWATCH_DATA_DIR: dataDir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('GRIDWATCH_ADMIN_TOKEN must be at least 24 characters');
    expect(run.stderr).toContain('GRIDWATCH_ADMIN_TOKNE is not a gridwatch setting');
  });
});
