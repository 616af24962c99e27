/**
 * The kinds endpoint: every registered kind is listed with plain JSON Schemas, examples that
 * validate against those schemas, and the MQTT topics.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../support/typebox-formats.js';
import { KINDS } from '../../../gateway/src/domain/kinds/index.js';
import { createHarness, type Harness } from './harness.js';
import { fromJsonSchema } from './json-schema-typebox.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.close();
});

interface KindAnswer {
  id: string;
  measurements: { name: string }[];
  events: { type: string; signalClass: string; title: string; titleZh: string }[];
  schemas: { telemetry: Record<string, unknown>; event: Record<string, unknown> };
  examples: { telemetry: Record<string, unknown>; event: Record<string, unknown> };
  topics: Record<string, string>;
}

describe('GET /api/v1/kinds', () => {
  it('lists every registered kind', async () => {
    const res = await h.request('GET', '/api/v1/kinds', h.tokens.captain);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.items.map((k: KindAnswer) => k.id).sort()).toEqual(KINDS.map((k) => k.id).sort());
    expect(body.nextCursor).toBeNull();
  });

  for (const kind of KINDS) {
    it(`${kind.id}: examples validate against the published schemas`, async () => {
      const res = await h.request('GET', `/api/v1/kinds/${kind.id}`, h.tokens.integrator);
      expect(res.statusCode).toBe(200);
      const answer = res.json() as KindAnswer;
      expect(answer.measurements.map((m) => m.name)).toEqual(kind.measurements.map((m) => m.name));
      expect(answer.events).toEqual(kind.events.map((e) => ({ type: e.type, signalClass: e.signalClass, title: e.title, titleZh: e.titleZh })));
      expect(answer.topics).toEqual({
        telemetry: 'gridwatch/v1/{deviceId}/telemetry',
        event: 'gridwatch/v1/{deviceId}/event',
        status: 'gridwatch/v1/{deviceId}/status',
      });
      for (const channel of ['telemetry', 'event'] as const) {
        // The published schema is plain JSON: it survives a JSON round trip unchanged.
        const schema = answer.schemas[channel];
        expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
        const check = TypeCompiler.Compile(fromJsonSchema(schema));
        const example = answer.examples[channel];
        expect([...check.Errors(example)].map((e) => `${e.path} ${e.message}`), `${kind.id} ${channel}`).toEqual([]);
        // Cross-check with the kind's own TypeBox schema, which the ingest pipeline uses.
        const own = channel === 'telemetry' ? kind.telemetrySchema : kind.eventSchema;
        expect(TypeCompiler.Compile(own).Check(example)).toBe(true);
        // The schema is not vacuous: an unknown field is refused.
        expect(check.Check({ ...example, not_a_field: 1 })).toBe(false);
      }
    });
  }

  it('examples are deterministic (fixed seed)', async () => {
    const again = await createHarness();
    try {
      for (const kind of KINDS) {
        const a = (await h.request('GET', `/api/v1/kinds/${kind.id}`, h.tokens.admin)).json();
        const b = (await again.request('GET', `/api/v1/kinds/${kind.id}`, again.tokens.admin)).json();
        expect(a.examples).toEqual(b.examples);
      }
    } finally {
      await again.close();
    }
  });

  it('answers 404 GW_NOT_FOUND for an unknown kind', async () => {
    const res = await h.request('GET', '/api/v1/kinds/toaster', h.tokens.admin);
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('GW_NOT_FOUND');
  });
});
