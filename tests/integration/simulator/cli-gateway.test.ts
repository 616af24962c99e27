/**
 * The simulate CLI against a whole gateway in-process (startHarness: real HTTP API, embedded
 * broker checking the secrets the API issued, SQLite in a temp dir): scenario mode with its
 * PASS/FAIL report, --list-scenarios, fleets over several buildings, and load mode's summary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS } from '../../../gateway/src/domain/kinds/index.js';
import { main, type CliIo } from '../../../simulators/src/cli.js';
import { SCENARIOS } from '../../../simulators/src/scenarios/index.js';
import { ADMIN_TOKEN, startHarness, until, type Harness } from '../../support/gateway-harness.js';

let h: Harness;
let api: string[];

beforeAll(async () => {
  h = await startHarness();
  api = ['--mqtt-url', h.gateway.mqttUrl(), '--api-url', h.gateway.httpUrl(), '--token', ADMIN_TOKEN];
});
afterAll(async () => h?.close());

function io(extra: Partial<CliIo> = {}): CliIo & { lines: string[] } {
  const lines: string[] = [];
  return { log: (l) => lines.push(l), env: {}, lines, ...extra };
}

describe('simulate --list-scenarios', () => {
  it('lists every scenario with the alerts it expects, and connects to nothing', async () => {
    const out = io();
    expect(await main(['--list-scenarios'], out)).toBe(0);
    const text = out.lines.join('\n');
    for (const s of SCENARIOS) {
      expect(text).toContain(s.id);
      for (const a of s.expect.alerts) expect(text).toContain(a.type);
    }
    expect(text).toMatch(/held-door[\s\S]*door\.held_open \(supervisory or alarm\) on door/);
  });
});

describe('simulate --scenario', () => {
  it('says what the gateway should do, runs the script and reports PASS per expected alert', async () => {
    const out = io();
    const code = await main([...api, '--scenario', 'blocklist', '--wait', '3'], out);
    const text = out.lines.join('\n');
    expect(code, text).toBe(0);
    const expectedAt = out.lines.findIndex((l) => l.includes('the gateway should raise'));
    const firstStep = out.lines.findIndex((l) => /\+\s*0\.0 s/.test(l));
    expect(expectedAt).toBeGreaterThanOrEqual(0);
    expect(firstStep).toBeGreaterThan(expectedAt);
    expect(text).toMatch(/PASS face\.blocklist_match \(alarm\) on gate \[scn-blocklist-gate-[0-9a-f]{6}\]/);
    expect(text).toMatch(/grid case: a grid case if nobody responds .*: (not checked|no case yet)/);
    expect(out.lines.at(-1)).toBe('scenario blocklist: PASS (1/1 expected alerts, 0 unexpected)');
    // The devices it registered are in the gateway's registry, in the first building.
    const gate = /\[(scn-blocklist-gate-[0-9a-f]{6})\]/.exec(text)![1]!;
    const device = await h.api('GET', `/api/v1/devices/${gate}`);
    expect(device.status).toBe(200);
    expect(device.body.buildingId).toBe('b1');
  });

  it('names the scenarios it knows when asked for another', async () => {
    const out = io();
    expect(await main([...api, '--scenario', 'earthquake'], out)).toBe(1);
    expect(out.lines.join('\n')).toMatch(/no scenario 'earthquake' \(known: fire, forced-door/);
  });

  it('refuses --scenario together with --load', async () => {
    const out = io();
    expect(await main([...api, '--scenario', 'fire', '--load', '--rate', '10', '--duration', '1'], out)).toBe(1);
    expect(out.lines.join('\n')).toMatch(/separate modes/);
  });
});

describe('simulate fleet --buildings', () => {
  it('registers devices of every kind in each of the first N buildings and runs them', async () => {
    const out = io();
    const expected = KINDS.length * 2;
    const started = h.gateway.pipeline.counts.accepted;
    const everyDeviceHeard = until(
      () => KINDS.every((k) => ['b1', 'b2'].every((b) => h.gateway.deviceStates.get(`fl-${b}-${k.id}-1`)?.lastSeen != null)),
      'every fleet device to be heard',
      10_000,
    );
    const code = await main([...api, '--buildings', '2', '--per-kind', '1', '--prefix', 'fl-', '--speed', '7200', '--seed', '7'], io({ ...out, until: everyDeviceHeard }));
    expect(code).toBe(0);
    expect(h.gateway.pipeline.counts.accepted).toBeGreaterThan(started + expected);
    for (const b of ['b1', 'b2']) {
      const devices = await h.api('GET', `/api/v1/devices?buildingId=${b}&limit=1000`);
      const ids = (devices.body.items as Array<{ id: string }>).map((d) => d.id).filter((id) => id.startsWith('fl-'));
      expect(ids.sort()).toEqual(KINDS.map((k) => `fl-${b}-${k.id}-1`).sort());
    }
  });

  it('says so when asked for more buildings than the gateway has', async () => {
    const out = io();
    expect(await main([...api, '--buildings', '3', '--prefix', 'none-'], out)).toBe(1);
    expect(out.lines.join('\n')).toMatch(/--buildings 3 asked for more buildings than the gateway has \(2: b1, b2\)/);
  });
});

describe('simulate --load', () => {
  it('sends at the asked rate and closes with sent, acked, errors and the achieved rate', async () => {
    const out = io();
    const received = h.gateway.pipeline.counts.received;
    const code = await main([...api, '--load', '--rate', '200', '--duration', '0.6', '--per-kind', '1', '--prefix', 'ld-'], out);
    const text = out.lines.join('\n');
    expect(code, text).toBe(0);
    const summary = /load done in ([\d.]+) s: sent (\d+), acked (\d+), errors (\d+), unacked (\d+); achieved ([\d.]+) msg\/s of 200 \((\d+) devices\)/.exec(
      out.lines.at(-1) ?? '',
    );
    expect(summary, text).not.toBeNull();
    const [, , sent, acked, errors, unacked, achieved, devices] = summary!.map(Number);
    expect(sent).toBe(120);
    expect(acked).toBe(120);
    expect(errors).toBe(0);
    expect(unacked).toBe(0);
    expect(devices).toBe(KINDS.length);
    expect(achieved).toBeGreaterThan(120);
    // The gateway got them all: 120 readings plus each device's retained 'online'.
    await until(() => h.gateway.pipeline.counts.received >= received + 120 + KINDS.length, 'the gateway to ingest the load');
    // Not a terminal: no in-place redraws; progress lines come every 5 s, so none in a short run.
    expect(text).not.toContain('\r');
  });

  it('redraws one progress line in place on a terminal', async () => {
    const writes: string[] = [];
    const out = io({ isTTY: true, write: (t) => writes.push(t) });
    const code = await main([...api, '--load', '--rate', '50', '--duration', '0.7', '--per-kind', '1', '--prefix', 'tty-'], out);
    expect(code, out.lines.join('\n')).toBe(0);
    const progress = writes.filter((w) => w.includes('simulate: load'));
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.every((w) => w.startsWith('\r\x1b[2K') && !w.includes('\n'))).toBe(true);
    expect(out.lines.at(-1)).toMatch(/sent 35, acked 35, errors 0, unacked 0/);
  });

  it('needs a rate and a duration', async () => {
    const out = io();
    expect(await main([...api, '--load', '--duration', '1'], out)).toBe(1);
    expect(await main([...api, '--load', '--rate', '10'], out)).toBe(1);
    expect(out.lines.join('\n')).toMatch(/--load needs --rate[\s\S]*--load needs --duration/);
  });
});
