import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'connectors/**/*.test.ts', 'src/**/*.test.ts'],
    // nock 15 needs Promise.withResolvers, which Node 20 lacks.
    setupFiles: ['test/fakes/node20-polyfills.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: PGlite start-up and real worker processes are CPU-heavy.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
