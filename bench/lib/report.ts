import { type LoadResult, unitsPerSec } from './load-result.js';

/** What a workload must reach; every given bound must hold. */
export interface Target {
  /** Minimum share of the baseline's throughput (0.5 = 50 %). */
  minRatio?: number;
  maxP99Ms?: number;
  minPerSec?: number;
  /** Every expected delivery happened (errors = missed deliveries must be 0). */
  noErrors?: boolean;
  /** Minimum multiple of the peer's throughput (5 = five times the peer). */
  minPeerRatio?: number;
  /** Peak RSS of the process under load (the service, or the peer/baseline server) must stay below. */
  maxPeakRssMiB?: number;
  /** Shown instead of a verdict when there is nothing to pass or fail. */
  reportOnly?: string;
}

export interface Row {
  id: string;
  title: string;
  unit: string;
  isBaseline: boolean;
  result?: LoadResult;
  /** Why the workload did not produce a result. */
  failure?: string;
  peakRssMiB?: number;
  /** Busy share of each CPU, and CPU used by processes not started by the bench (% of one CPU). */
  cpuBusy?: { cpu0: number; cpu1: number; others: number };
  /** CPU of the service process and of all PostgreSQL processes (% of one CPU). */
  cpuSplit?: { service?: number; postgres?: number };
  /** perSec: the baseline's throughput; with before/after (A-B-A bracketing), their mean. */
  baseline?: { title: string; perSec: number; before?: number; after?: number };
  /** The peer product's throughput on the same workload, measured earlier in this run. */
  peer?: { title: string; perSec: number };
  target: Target;
  /** BENCH_PROFILE: markdown table of PostgreSQL's busiest statements during the workload. */
  statements?: string;
}

export type Verdict = 'PASS' | 'FAIL' | '—';

export function targetText(target: Target): string {
  const parts: string[] = [];
  if (target.minRatio !== undefined) parts.push(`≥ ${Math.round(target.minRatio * 100)}% of baseline`);
  if (target.minPeerRatio !== undefined) parts.push(`≥ ${target.minPeerRatio}× peer`);
  if (target.minPerSec !== undefined) parts.push(`≥ ${formatCount(target.minPerSec)}/s`);
  if (target.maxP99Ms !== undefined) parts.push(`p99 < ${target.maxP99Ms} ms`);
  if (target.noErrors) parts.push('all delivered');
  if (target.maxPeakRssMiB !== undefined) parts.push(`peak RSS < ${target.maxPeakRssMiB} MiB`);
  if (target.reportOnly) parts.push(target.reportOnly);
  return parts.join(', ') || '—';
}

export function ratioOf(row: Row): number | undefined {
  if (!row.result || !row.baseline || row.baseline.perSec <= 0) return undefined;
  return unitsPerSec(row.result) / row.baseline.perSec;
}

export function peerRatioOf(row: Row): number | undefined {
  if (!row.result || !row.peer || row.peer.perSec <= 0) return undefined;
  return unitsPerSec(row.result) / row.peer.perSec;
}

/** PASS when every bound of the target holds; FAIL otherwise (also when it could not run). */
export function verdictOf(row: Row): { verdict: Verdict; reasons: string[] } {
  const { target, result } = row;
  const bounded =
    target.minRatio !== undefined ||
    target.minPeerRatio !== undefined ||
    target.maxP99Ms !== undefined ||
    target.minPerSec !== undefined ||
    target.noErrors === true ||
    target.maxPeakRssMiB !== undefined;
  if (!bounded) return { verdict: '—', reasons: [] };
  if (!result) return { verdict: 'FAIL', reasons: [row.failure ?? 'did not run'] };
  const reasons: string[] = [];
  if (target.minRatio !== undefined) {
    const ratio = ratioOf(row);
    if (ratio === undefined) reasons.push('no baseline measured');
    else if (ratio < target.minRatio) reasons.push(`${pct(ratio)} of baseline < ${pct(target.minRatio)}`);
  }
  if (target.minPeerRatio !== undefined) {
    const ratio = peerRatioOf(row);
    if (ratio === undefined) reasons.push('no peer measured');
    else if (ratio < target.minPeerRatio) reasons.push(`${ratio.toFixed(2)}× peer < ${target.minPeerRatio}×`);
  }
  if (target.minPerSec !== undefined && unitsPerSec(result) < target.minPerSec) {
    reasons.push(`${formatCount(unitsPerSec(result))}/s < ${formatCount(target.minPerSec)}/s`);
  }
  if (target.maxP99Ms !== undefined && !(result.p99Ms !== undefined && result.p99Ms < target.maxP99Ms)) {
    reasons.push(`p99 ${formatMs(result.p99Ms)} ≥ ${target.maxP99Ms} ms`);
  }
  if (target.noErrors && result.errors > 0) reasons.push(`${result.errors} missed`);
  if (target.maxPeakRssMiB !== undefined) {
    if (row.peakRssMiB === undefined) reasons.push('peak RSS not measured');
    else if (row.peakRssMiB >= target.maxPeakRssMiB)
      reasons.push(`peak RSS ${row.peakRssMiB.toFixed(0)} MiB ≥ ${target.maxPeakRssMiB} MiB`);
  }
  return { verdict: reasons.length ? 'FAIL' : 'PASS', reasons };
}

export function formatCount(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1);
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '—';
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`;
}

function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(0)}%`;
}

const HEADER = [
  'workload',
  'throughput',
  'p50',
  'p99',
  'errors',
  'peak RSS',
  'CPU0 / CPU1 busy (others)',
  'service / PG CPU',
  'baseline',
  'baseline throughput',
  'ratio',
  'peer (same run)',
  'vs peer',
  'target',
  'result',
];

/** The results as one markdown table (baselines in italics). */
export function renderTable(rows: Row[]): string {
  const lines = [`| ${HEADER.join(' | ')} |`, `| ${HEADER.map(() => '---').join(' | ')} |`];
  for (const row of rows) {
    const r = row.result;
    const { verdict, reasons } = verdictOf(row);
    const ratio = ratioOf(row);
    const peerRatio = peerRatioOf(row);
    const cells = [
      row.isBaseline ? `*${row.title}*` : row.title,
      r ? `${formatCount(unitsPerSec(r))} ${row.unit}` : `not run: ${row.failure ?? '?'}`,
      formatMs(r?.p50Ms),
      formatMs(r?.p99Ms),
      r ? String(r.errors) : '—',
      row.peakRssMiB !== undefined ? `${row.peakRssMiB.toFixed(0)} MiB` : '—',
      row.cpuBusy
        ? `${row.cpuBusy.cpu0.toFixed(0)}% / ${row.cpuBusy.cpu1.toFixed(0)}% (${row.cpuBusy.others.toFixed(0)}%)`
        : '—',
      row.cpuSplit
        ? `${row.cpuSplit.service !== undefined ? `${row.cpuSplit.service.toFixed(0)}%` : '—'} / ${(row.cpuSplit.postgres ?? 0).toFixed(0)}%`
        : '—',
      row.baseline?.title ?? '—',
      row.baseline
        ? `${formatCount(row.baseline.perSec)} ${row.unit}${
            row.baseline.before !== undefined && row.baseline.after !== undefined
              ? ` (mean of ${formatCount(row.baseline.before)} before, ${formatCount(row.baseline.after)} after)`
              : ''
          }`
        : '—',
      ratio !== undefined ? pct(ratio) : '—',
      row.peer ? `${row.peer.title}: ${formatCount(row.peer.perSec)} ${row.unit}` : '—',
      peerRatio !== undefined ? `${peerRatio.toFixed(2)}×` : '—',
      targetText(row.target),
      verdict === 'FAIL' ? `**FAIL** (${reasons.join('; ')})` : verdict,
    ];
    lines.push(`| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`);
  }
  return lines.join('\n');
}
