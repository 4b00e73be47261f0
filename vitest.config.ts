import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // End-to-end tests start real servers and processes; keep the 2-core machine from oversubscribing.
    maxConcurrency: 4,
  },
});
