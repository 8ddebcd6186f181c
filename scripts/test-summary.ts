/**
 * Prints vitest's JSON report as one plain closing line, `tests: N passed, N failed[, N skipped]`,
 * so CI logs end with a count that any reader can parse.
 */
import { readFileSync } from 'node:fs';

interface VitestJsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

const file = process.argv[2] ?? '.cache/test-report.json';
try {
  const report = JSON.parse(readFileSync(file, 'utf8')) as VitestJsonReport;
  const skipped = report.numPendingTests + report.numTodoTests;
  console.log(
    `tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`,
  );
} catch (error) {
  console.log(`tests: no report at ${file} (${error instanceof Error ? error.message : String(error)})`);
  process.exitCode = 1;
}
