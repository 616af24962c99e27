/**
 * Summarises a .cpuprofile: the functions with the most self time, and the most total time
 * (self + callees), as percentages of the samples. `npx tsx bench/top.ts <file> [rows]`
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

const file = process.argv[2];
if (!file) throw new Error('usage: tsx bench/top.ts <file.cpuprofile> [rows]');
const rows = Number(process.argv[3] ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[] };
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const total = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
const label = (n: Node): string => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules|work\/main)\//, '')}:${n.callFrame.lineNumber + 1}`;

const self = new Map<string, number>();
for (const n of profile.nodes) self.set(label(n), (self.get(label(n)) ?? 0) + (n.hitCount ?? 0));

// Total time: a function's subtree, counted once per stack even when it recurses.
const inclusive = new Map<string, number>();
function walk(id: number, onStack: Set<string>): number {
  const n = byId.get(id)!;
  let hits = n.hitCount ?? 0;
  const l = label(n);
  const first = !onStack.has(l);
  if (first) onStack.add(l);
  for (const c of n.children ?? []) hits += walk(c, onStack);
  if (first) {
    onStack.delete(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + hits);
  }
  return hits;
}
walk(profile.nodes[0]!.id, new Set());

const show = (m: Map<string, number>, title: string): void => {
  console.log(`\n${title} (of ${total} samples)`);
  for (const [l, h] of [...m].sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(`${((100 * h) / total).toFixed(1).padStart(5)}%  ${l}`);
};
show(self, 'self');
show(inclusive, 'total');
