import { defineConfig } from 'vitest/config';

// `npm test`: everything that needs nothing outside npm (in-process aedes on port 0, SQLite in
// temp dirs, real HTTP/SMTP servers on loopback). System tests live in vitest.system.config.ts.
export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts', 'tests/integration/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: ['default'],
  },
});
