import { describe, expect, it } from 'vitest';
import { parseCpuList } from '../lib/cpu.js';
import { areaOf, shortUrl } from '../lib/profile-summary.js';
import { repoRoot } from '../lib/repo-root.js';
import { type Row, renderTable, verdictOf } from '../lib/report.js';
import { parseWrkOutput } from '../lib/wrk.js';

const wrkLine = (fields: Record<string, number>) =>
  `Running 10s test\nWRK_JSON ${JSON.stringify({ requests: 1000, duration_us: 2_000_000, connect: 0, read: 0, write: 0, status: 0, timeout: 0, p50_us: 1500, p99_us: 4200, ...fields })}\n`;

describe('parseWrkOutput', () => {
  it('reads throughput window, percentiles in ms and no errors', () => {
    const result = parseWrkOutput(wrkLine({}));
    expect(result).toMatchObject({
      ops: 1000,
      units: 1000,
      elapsedSec: 2,
      errors: 0,
      p50Ms: 1.5,
      p99Ms: 4.2,
    });
  });

  it('does not count ≥ 400 answers as completed operations, and sums every error kind', () => {
    const result = parseWrkOutput(wrkLine({ status: 100, timeout: 2, connect: 1 }));
    expect(result.ops).toBe(900);
    expect(result.errors).toBe(103);
    expect(result.errorSamples?.[0]).toContain('status≥400 100');
  });

  it('fails loudly when wrk printed no result line', () => {
    expect(() => parseWrkOutput('unable to connect')).toThrow(/no result line/);
  });
});

describe('verdictOf', () => {
  const row = (over: Partial<Row>): Row => ({
    id: 'w',
    title: 'w',
    unit: 'req/s',
    isBaseline: false,
    target: { minRatio: 0.5, maxP99Ms: 5 },
    result: { ops: 600, units: 600, elapsedSec: 1, errors: 0, p50Ms: 1, p99Ms: 4 },
    baseline: { title: 'b', perSec: 1000 },
    ...over,
  });

  it('passes when the ratio and the p99 bound hold', () => {
    expect(verdictOf(row({})).verdict).toBe('PASS');
  });

  it('fails on each bound, naming it', () => {
    const slow = verdictOf(row({ result: { ops: 300, units: 300, elapsedSec: 1, errors: 0, p99Ms: 7 } }));
    expect(slow.verdict).toBe('FAIL');
    expect(slow.reasons).toEqual(['30% of baseline < 50%', 'p99 7.00 ms ≥ 5 ms']);
  });

  it('fails without a baseline or a result, and has no verdict without bounds', () => {
    expect(verdictOf(row({ baseline: undefined })).reasons).toEqual(['no baseline measured']);
    expect(verdictOf(row({ result: undefined, failure: 'service down' })).reasons).toEqual(['service down']);
    expect(verdictOf(row({ target: { reportOnly: 'info' } })).verdict).toBe('—');
  });

  it('judges the peak RSS bound, and fails when it was not measured', () => {
    const rss = { target: { maxPeakRssMiB: 200 } };
    expect(verdictOf(row({ ...rss, peakRssMiB: 150 })).verdict).toBe('PASS');
    expect(verdictOf(row({ ...rss, peakRssMiB: 330 })).reasons).toEqual(['peak RSS 330 MiB ≥ 200 MiB']);
    expect(verdictOf(row(rss)).reasons).toEqual(['peak RSS not measured']);
  });

  it('counts missed deliveries against an all-delivered target', () => {
    const r = row({ target: { noErrors: true }, result: { ops: 999, units: 999, elapsedSec: 1, errors: 1 } });
    expect(verdictOf(r).reasons).toEqual(['1 missed']);
  });
});

describe('renderTable', () => {
  it('renders one markdown row per workload with ratio and verdict', () => {
    const table = renderTable([
      {
        id: 'w',
        title: 'GET | one key',
        unit: 'req/s',
        isBaseline: false,
        target: { minRatio: 0.5 },
        result: { ops: 2000, units: 2000, elapsedSec: 1, errors: 0, p50Ms: 1, p99Ms: 3 },
        baseline: { title: 'bare', perSec: 5000 },
        cpuBusy: { cpu0: 99, cpu1: 40, others: 3 },
        peakRssMiB: 120.4,
      },
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain('GET \\| one key');
    expect(lines[2]).toContain('2,000 req/s');
    expect(lines[2]).toContain('| 40% |');
    expect(lines[2]).toContain('**FAIL** (40% of baseline < 50%)');
    expect(lines[2]).toContain('120 MiB');
  });
});

describe('parseCpuList', () => {
  it('expands ranges and lists', () => {
    expect([...parseCpuList('0-1')]).toEqual([0, 1]);
    expect([...parseCpuList('0,2-3')]).toEqual([0, 2, 3]);
  });
});

describe('profile frames', () => {
  it('names dependencies by package and our code by repo area', () => {
    const dep = 'file:///x/node_modules/.pnpm/fast-jwt@6.3.6/node_modules/fast-jwt/src/verifier.js';
    expect(shortUrl(dep)).toBe('fast-jwt/src/verifier.js');
    expect(areaOf(dep, 'verify')).toBe('fast-jwt');
    expect(areaOf('file:///x/node_modules/@connectrpc/connect/dist/esm/x.js', 'f')).toBe(
      '@connectrpc/connect',
    );
    expect(areaOf(`file://${repoRoot}/packages/platform/src/auth/token-verifier.ts`, 'verify')).toBe(
      'packages/platform',
    );
    expect(areaOf('node:internal/http2/core', 'write')).toBe('node:internal/http2');
    expect(areaOf('', '(garbage collector)')).toBe('(garbage collector)');
  });
});
