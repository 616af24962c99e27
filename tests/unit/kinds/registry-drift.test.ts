/**
 * Adding a kind is one file plus one registry line. This test fails when the line is missing (a
 * kind file whose definition is not in KINDS), when a file holds no kind or several, and when the
 * file name and the kind id disagree; it also keeps the folder README's table in step.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KINDS } from '../../../gateway/src/domain/kinds/index.js';

const KINDS_DIR = fileURLToPath(new URL('../../../gateway/src/domain/kinds/', import.meta.url));
const NOT_KINDS = new Set(['index.ts', 'factories.ts']);

async function kindFiles(): Promise<string[]> {
  const names = await readdir(KINDS_DIR);
  return names.filter((n) => n.endsWith('.ts') && !n.endsWith('.d.ts') && !NOT_KINDS.has(n)).sort();
}

function isKindDefinition(value: unknown): value is { id: string } {
  return typeof value === 'object' && value !== null && 'telemetrySchema' in value && 'eventSchema' in value && 'id' in value;
}

describe('kind registry drift', () => {
  it('registers the one kind of every kind file, named after its id', async () => {
    const files = await kindFiles();
    expect(files.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const file of files) {
      const module = (await import(pathToFileURL(`${KINDS_DIR}${file}`).href)) as Record<string, unknown>;
      const kinds = Object.values(module).filter(isKindDefinition);
      if (kinds.length !== 1) {
        problems.push(`${file} exports ${kinds.length} kinds; a kind file exports exactly one`);
        continue;
      }
      const kind = kinds[0]!;
      if (!KINDS.includes(kind as (typeof KINDS)[number])) {
        problems.push(`${file}: kind '${kind.id}' is missing from KINDS in gateway/src/domain/kinds/index.ts`);
      }
      if (`${kind.id}.ts` !== file) problems.push(`${file} holds kind '${kind.id}'; name the file ${kind.id}.ts`);
    }
    expect(problems).toEqual([]);
    expect(KINDS.length, 'KINDS lists a kind with no file of its own').toBe(files.length);
  });

  it('lists every kind in the folder README', async () => {
    const readme = await readFile(`${KINDS_DIR}README.md`, 'utf8');
    const missing = KINDS.filter((k) => !readme.includes(`| \`${k.id}\` |`)).map((k) => k.id);
    expect(missing, 'kinds missing from the table in gateway/src/domain/kinds/README.md').toEqual([]);
  });
});
