// Prints vitest's JSON report as the plain closing line "N passed, M failed" (exit 1 when no test ran or the report is
// missing).
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'build/vitest-report.json';
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch {
  console.log('0 passed, 1 failed');
  console.error(`no vitest report at ${file}: the tests did not run (see the output above)`);
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
// A file that failed to load has no failed test of its own: count it once.
const brokenFiles = (report.testResults ?? []).filter(
  (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
).length;
const failed = (report.numFailedTests ?? 0) + brokenFiles;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(passed === 0 || failed > 0 ? 1 : 0);
