/**
 * Facts about the shipped kinds that integrators and the rule engine rely on (domain reference
 * §3): event names and classes, heartbeat contracts, and what an attribute may carry.
 */
import '../../support/typebox-formats.js';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, it } from 'vitest';
import type { KindDefinition } from '../../../gateway/src/domain/kind.js';
import { kindById } from '../../../gateway/src/domain/kinds/index.js';

function kind(id: string): KindDefinition {
  const k = kindById(id);
  if (!k) throw new Error(`kind ${id} is not registered`);
  return k;
}

function classes(k: KindDefinition): Record<string, string> {
  return Object.fromEntries(k.events.map((e) => [e.type, e.signalClass]));
}

describe('smoke', () => {
  it('reports the fire-panel events in their classes', () => {
    expect(classes(kind('smoke'))).toEqual({
      'smoke.alarm': 'alarm',
      'heat.alarm': 'alarm',
      'co.alarm': 'alarm',
      manual_call_point: 'alarm',
      prealarm: 'supervisory',
      silenced: 'supervisory',
      disabled: 'supervisory',
      'battery.low': 'trouble',
      end_of_life: 'trouble',
      'sensor.fault': 'trouble',
      'chamber.dirty': 'trouble',
      'tamper.removed_from_base': 'trouble',
      'mains.lost': 'trouble',
      self_test: 'info',
      heartbeat: 'info',
    });
  });

  it('is a battery device reporting about hourly', () => {
    const hb = kind('smoke').heartbeat;
    expect(hb.power).toBe('battery');
    expect(hb.intervalS).toBe(3600);
    expect(hb.offlineAfterS).toBe(3 * 3600);
  });

  it('measures obscuration, temperature, CO, battery and signal', () => {
    expect(kind('smoke').measurements.map((m) => [m.name, m.unit])).toEqual([
      ['obscuration', 'dB/m'],
      ['temperature', '°C'],
      ['co', 'ppm'],
      ['battery', '%'],
      ['rssi', 'dBm'],
    ]);
  });
});

describe('door', () => {
  const check = TypeCompiler.Compile(kind('door').eventSchema);
  const granted = {
    type: 'access.granted',
    doorId: 'D1',
    readerId: 'R1',
    direction: 'in',
    credentialType: 'card',
    credentialRef: 'a'.repeat(64),
    personRef: 'P0001',
    result: 'granted',
  };

  it('accepts a full access event', () => {
    expect(check.Check(granted)).toBe(true);
    expect(check.Check({ type: 'door.closed', doorId: 'D1', openDurationS: 4.5 })).toBe(true);
  });

  it('refuses a raw card number or PIN as the credential reference', () => {
    for (const raw of ['12345678', '0004567890', 'A1B2C3D4', '04a224b2c35e80', '1234', '6222021234567890123']) {
      expect(check.Check({ ...granted, credentialRef: raw }), raw).toBe(false);
    }
    expect(check.Check({ ...granted, credentialRef: 'A'.repeat(64) }), 'upper-case hex').toBe(false);
    expect(check.Check({ ...granted, credentialRef: 'f'.repeat(128) })).toBe(true);
    expect(check.Check({ ...granted, credentialRef: 'q9_-'.repeat(10) + 'abc' })).toBe(true);
  });

  it('classes forced doors, duress and tailgating as alarms and a held door as supervisory', () => {
    const c = classes(kind('door'));
    expect(c['door.forced_open']).toBe('alarm');
    expect(c.duress).toBe('alarm');
    expect(c.tailgating).toBe('alarm');
    expect(c['door.held_open']).toBe('supervisory');
    expect(c['access.granted']).toBe('info');
    expect(c['access.denied']).toBe('info');
    expect(c['lock.fault']).toBe('trouble');
  });

  it('is mains powered', () => {
    expect(kind('door').heartbeat.power).toBe('mains');
  });
});

describe('face-gate', () => {
  const check = TypeCompiler.Compile(kind('face-gate').eventSchema);

  it('carries references, scores and hashes only', () => {
    expect(Object.keys(kind('face-gate').eventAttributes ?? {}).sort()).toEqual(
      ['direction', 'gateId', 'livenessScore', 'personRef', 'score', 'templateHash', 'threshold'].sort(),
    );
    const verified = {
      type: 'face.verified',
      gateId: 'G1',
      direction: 'in',
      personRef: 'P0001',
      score: 91.5,
      threshold: 80,
      livenessScore: 98,
      templateHash: 'b'.repeat(64),
    };
    expect(check.Check(verified)).toBe(true);
    expect(check.Check({ ...verified, score: 101 }), 'scores are 0–100').toBe(false);
    expect(check.Check({ ...verified, livenessScore: -1 })).toBe(false);
    expect(check.Check({ ...verified, templateHash: 'not a hash' })).toBe(false);
  });

  it('raises an alarm for a blocklist match and liveness failure', () => {
    const c = classes(kind('face-gate'));
    expect(c['face.blocklist_match']).toBe('alarm');
    expect(c['face.liveness_failed']).toBe('alarm');
    expect(c['face.verified']).toBe('info');
    expect(c['face.failed']).toBe('info');
  });
});

describe('camera', () => {
  it('heartbeats every 60 s and is offline after max(3 × 60 s, 60 s)', () => {
    expect(kind('camera').heartbeat).toEqual({ power: 'mains', intervalS: 60, offlineAfterS: 180 });
  });

  it('reports stream health', () => {
    expect(kind('camera').measurements.map((m) => m.name)).toEqual(
      expect.arrayContaining(['fps', 'bitrate', 'last_frame_age', 'storage_free']),
    );
  });

  it('classes image diagnostics as supervisory, failures as trouble, illegal login as alarm', () => {
    const c = classes(kind('camera'));
    expect(c['video.loss']).toBe('trouble');
    expect(c['storage.failure']).toBe('trouble');
    expect(c['video.occluded']).toBe('supervisory');
    expect(c.illegal_login).toBe('alarm');
  });
});
