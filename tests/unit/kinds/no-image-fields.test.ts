/**
 * Faces and people are references and hashes only (China PIPL art. 28–29, GB/T 41819): no kind
 * may declare a field that could carry a picture, and event schemas refuse one if a device sends it.
 */
import '../../support/typebox-formats.js';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, it } from 'vitest';
import { KINDS } from '../../../gateway/src/domain/kinds/index.js';
import { sampleRun } from './sample-context.js';

const IMAGE_NAME = /image|img|photo|picture|pic_?url|snapshot|snap|base64|jpe?g|png|frame_?data|face_?data/i;
const KINDS_DIR = fileURLToPath(new URL('../../../gateway/src/domain/kinds/', import.meta.url));

/** Every property name anywhere in a JSON schema. */
function propertyNames(schema: unknown, out: string[] = []): string[] {
  if (Array.isArray(schema)) {
    for (const s of schema) propertyNames(s, out);
  } else if (typeof schema === 'object' && schema !== null) {
    const s = schema as Record<string, unknown>;
    if (typeof s.properties === 'object' && s.properties !== null) out.push(...Object.keys(s.properties));
    for (const v of Object.values(s)) propertyNames(v, out);
  }
  return out;
}

describe('no image fields in any kind', () => {
  it('declares no measurement, attribute or schema property named like an image', () => {
    const offenders = KINDS.flatMap((k) => [
      ...k.measurements.map((m) => m.name),
      ...Object.keys(k.eventAttributes ?? {}),
      ...propertyNames(k.telemetrySchema),
      ...propertyNames(k.eventSchema),
    ].filter((n) => IMAGE_NAME.test(n)).map((n) => `${k.id}.${n}`));
    expect(offenders).toEqual([]);
  });

  it('has no property key named like an image in any kind file', async () => {
    const files = (await readdir(KINDS_DIR)).filter((n) => n.endsWith('.ts'));
    const offenders: string[] = [];
    for (const file of files) {
      const text = await readFile(`${KINDS_DIR}${file}`, 'utf8');
      // A property key: an identifier or quoted name followed by a colon (object literal or type).
      for (const match of text.matchAll(/['"]?([A-Za-z_$][\w$]*)['"]?\s*\??:/g)) {
        if (IMAGE_NAME.test(match[1]!)) offenders.push(`${file}: ${match[1]}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('samples no image-like keys', () => {
    for (const kind of KINDS) {
      const run = sampleRun(3);
      for (let i = 0; i < 500; i++) {
        const keys = [...Object.keys(kind.sample.telemetry(run.next())), ...Object.keys(kind.sample.event(run.next()))];
        expect(keys.filter((k) => IMAGE_NAME.test(k)), kind.id).toEqual([]);
      }
    }
  });

  it('rejects an event that carries a picture', () => {
    const jpegBase64 = '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgH';
    for (const kind of KINDS) {
      const check = TypeCompiler.Compile(kind.eventSchema);
      for (const field of ['image', 'snapshot', 'photo', 'picture', 'faceImage', 'imageBase64']) {
        expect(check.Check({ type: 'heartbeat', [field]: jpegBase64 }), `${kind.id} accepted '${field}'`).toBe(false);
      }
    }
  });
});
