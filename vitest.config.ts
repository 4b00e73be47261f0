import { dirname } from 'node:path';
import { defineConfig } from 'vitest/config';

// The launchers under test run on the Node.js that runs vitest (its folder goes first on PATH here and in
// test/support/agent.ts), so that must be one the product supports. The npm scripts put build/node-<version>/bin first
// on PATH (scripts/dev-node.sh).
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12))
  throw new Error(
    `the tests need Node.js 22.12 or later to run the launchers on, and vitest runs on ${process.version}: run them through npm (npm test, npm run test:unit, npm run test:e2e), or as \`bash scripts/fetch-node.sh -- npx vitest run <file>\``,
  );
process.env.PATH = `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // End-to-end tests start real servers and processes; keep the 2-core machine from oversubscribing.
    maxConcurrency: 4,
  },
});
