import { defineConfig } from 'vitest/config';

// `npm run test:system`: tests against Debian packages and services (Mosquitto, VictoriaMetrics,
// Chromium), which .ci/run installs and starts. Run one file at a time: they share those services.
export default defineConfig({
  test: {
    include: ['tests/system/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
