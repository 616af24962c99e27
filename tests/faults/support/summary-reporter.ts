/**
 * Prints the fault suite's figures as one block after vitest's own summary, and makes the last
 * line of the run `faults: N passed, M failed`. "0 lost, 0 crashes" is printed only as measured.
 */
import type { Reporter, TestModule } from 'vitest/node';
import type { FaultFigures } from './figures.js';

export default class FaultSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    const figures: FaultFigures[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        figures.push(...(test.meta().faultFigures ?? []));
      }
      // A file whose set-up failed (its tests skipped) counts as one failure.
      if (module.state() === 'failed' && ![...module.children.allTests()].some((t) => t.result().state === 'failed')) failed++;
    }
    const total = { tried: 0, accepted: 0, lost: 0, crashes: 0 };
    const rejected: Record<string, number> = {};
    const refused: Record<string, number> = {};
    const api: Record<string, number> = {};
    for (const f of figures) {
      total.tried += f.tried;
      total.accepted += f.accepted;
      total.lost += f.lost;
      total.crashes += f.crashes;
      for (const [k, v] of Object.entries(f.rejected)) rejected[k] = (rejected[k] ?? 0) + v;
      for (const [k, v] of Object.entries(f.refusedByBroker)) refused[k] = (refused[k] ?? 0) + v;
      for (const [k, v] of Object.entries(f.refusedByApi ?? {})) api[k] = (api[k] ?? 0) + v;
    }
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    const list = (o: Record<string, number>) =>
      Object.entries(o)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `      ${k.padEnd(34)} ${v}`);
    const lines = [
      '',
      '== fault suite figures',
      `  messages tried            ${total.tried}`,
      `  accepted                  ${total.accepted}`,
      `  rejected by the pipeline  ${sum(rejected)}`,
      ...list(rejected),
      `  refused by the broker     ${sum(refused)}`,
      ...list(refused),
      `  HTTP requests refused     ${sum(api)}`,
      ...list(api),
      `  lost                      ${total.lost}`,
      `  crashes                   ${total.crashes}`,
      '  per scenario:',
    ];
    for (const f of figures) {
      const notes = Object.entries(f.notes ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      lines.push(`    ${f.scenario}: tried ${f.tried}, accepted ${f.accepted}, rejected ${sum(f.rejected)}, refused ${sum(f.refusedByBroker)}, http refused ${sum(f.refusedByApi ?? {})}, lost ${f.lost}, crashes ${f.crashes}${notes ? `; ${notes}` : ''}`);
    }
    lines.push('', `faults: ${passed} passed, ${failed} failed`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}
