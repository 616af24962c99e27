/**
 * `npm run dashboards`: writes the Grafana dashboards generated from the kind registry to
 * dashboards/grafana/dashboards/. `npm run dashboards -- --check` writes nothing and exits 1 when
 * the committed files differ from what the generator produces (the drift check tests run).
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { KindDefinition } from '../gateway/src/domain/kind.js';
import { KINDS } from '../gateway/src/domain/kinds/index.js';
import { renderDashboards } from './src/catalog.js';

/** Where the committed JSON lives and the Grafana file provider reads from. */
export const DASHBOARDS_DIR = fileURLToPath(new URL('./grafana/dashboards/', import.meta.url));

export interface Drift {
  /** Files whose content differs from the generator's. */
  readonly changed: string[];
  /** Generated files that are not on disk. */
  readonly missing: string[];
  /** JSON files on disk that the generator no longer produces. */
  readonly stale: string[];
}

async function jsonFilesIn(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Compares the files in `dir` with the generator's output for `kinds`. */
export async function findDrift(dir: string, kinds: readonly KindDefinition[] = KINDS): Promise<Drift> {
  const expected = renderDashboards(kinds);
  const present = await jsonFilesIn(dir);
  const drift: Drift = { changed: [], missing: [], stale: present.filter((f) => !expected.has(f)) };
  for (const [file, content] of expected) {
    if (!present.includes(file)) drift.missing.push(file);
    else if ((await readFile(path.join(dir, file), 'utf8')) !== content) drift.changed.push(file);
  }
  return drift;
}

/** Writes every dashboard to `dir` and removes JSON files the generator no longer produces. */
export async function writeDashboards(dir: string, kinds: readonly KindDefinition[] = KINDS): Promise<string[]> {
  const expected = renderDashboards(kinds);
  await mkdir(dir, { recursive: true });
  for (const file of await jsonFilesIn(dir)) {
    if (!expected.has(file)) await rm(path.join(dir, file));
  }
  for (const [file, content] of expected) await writeFile(path.join(dir, file), content);
  return [...expected.keys()];
}

export interface GenerateIo {
  readonly log: (line: string) => void;
}

/** The CLI; returns the exit code (0 ok, 1 drift found, 2 bad usage). */
export async function main(argv: readonly string[], io: GenerateIo, kinds: readonly KindDefinition[] = KINDS): Promise<number> {
  let values: { check?: boolean; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { check: { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.log(`dashboards: ${(err as Error).message}`);
    return 2;
  }
  if (values.help) {
    io.log('usage: npm run dashboards [-- --check] [-- --out <dir>]');
    io.log('  --check      write nothing; exit 1 when the committed dashboards differ from the generated ones');
    io.log(`  --out <dir>  directory of the dashboard JSON (default ${path.relative(process.cwd(), DASHBOARDS_DIR) || '.'})`);
    return 0;
  }
  const dir = path.resolve(values.out ?? DASHBOARDS_DIR);
  if (values.check) {
    const drift = await findDrift(dir, kinds);
    const problems = [
      ...drift.changed.map((f) => `${f} differs from the generator's output`),
      ...drift.missing.map((f) => `${f} is missing`),
      ...drift.stale.map((f) => `${f} is no longer generated`),
    ];
    if (problems.length === 0) {
      io.log(`dashboards: ${dir} is up to date`);
      return 0;
    }
    for (const p of problems) io.log(`dashboards: ${p}`);
    io.log('dashboards: run `npm run dashboards` and commit the result');
    return 1;
  }
  const written = await writeDashboards(dir, kinds);
  io.log(`dashboards: wrote ${written.length} dashboards to ${dir}`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), { log: (line) => console.log(line) }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
