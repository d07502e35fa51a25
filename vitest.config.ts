import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'connectors/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: PGlite start-up and real worker processes are CPU-heavy.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
