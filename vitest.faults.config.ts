import { defineConfig } from 'vitest/config';

// `npm run test:faults`: the fault suite (tests/faults/**). Real components under load, outages of
// real processes (VictoriaMetrics, a gateway child process killed with SIGKILL), hostile input.
// The summary reporter prints the figures (tried, accepted, rejected by reason, lost, crashes) and
// ends the run with `faults: N passed, M failed`.
export default defineConfig({
  test: {
    include: ['tests/faults/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    // Long outages run side by side so the suite stays within a few minutes.
    maxWorkers: 4,
    testTimeout: 240_000,
    hookTimeout: 60_000,
    reporters: ['default', './tests/faults/support/summary-reporter.ts'],
  },
});
