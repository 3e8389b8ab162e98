#!/usr/bin/env node
// Prints vitest's JSON report as one plain closing line, "N passed, N failed, N skipped", so that CI
// logs end with a summary any reader understands. Exits with the test run's status.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'tests/artifacts/vitest.json';
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  console.log(`0 passed, 1 failed (no test report at ${file}: ${err.message})`);
  process.exit(1);
}
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
process.exit(report.success && report.numFailedTests === 0 && report.numTotalTests > 0 ? 0 : 1);
