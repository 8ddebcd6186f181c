import { readFile } from 'node:fs/promises';
import { repoRoot } from './repo-root.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

const IDLE = new Set(['(idle)']);

/** "fastify/lib/route.js" for a dependency, "packages/platform/src/…" for ours, "node:…" for core. */
export function shortUrl(url: string): string {
  if (url === '') return '';
  const path = url.replace(/^file:\/\//, '');
  const inModules = path.lastIndexOf('/node_modules/');
  if (inModules >= 0) return path.slice(inModules + '/node_modules/'.length);
  if (path.startsWith(`${repoRoot}/`)) return path.slice(repoRoot.length + 1);
  return path;
}

/** The package or repo area a frame belongs to, for the by-area breakdown. */
export function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(V8 builtin)';
  const short = shortUrl(url);
  if (short.startsWith('node:')) return short.split('/').slice(0, 2).join('/');
  const segments = short.split('/');
  if (url.includes('/node_modules/'))
    return segments[0]!.startsWith('@') ? `${segments[0]}/${segments[1]}` : segments[0]!;
  return segments.length > 2 ? `${segments[0]}/${segments[1]}` : short;
}

function pct(n: number, total: number): string {
  return `${((100 * n) / total).toFixed(1)}%`;
}

/**
 * Markdown summary of a V8 .cpuprofile: shares of non-idle samples by area (self time), the
 * hottest functions by self time, and our own code (apps/, packages/) by inclusive time.
 */
export async function summarizeProfile(file: string, top: number): Promise<string> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  // tsx-compiled TypeScript reports line 1 for everything: name the file only.
  const label = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}${n.callFrame.url && !n.callFrame.url.endsWith('.ts') ? `:${n.callFrame.lineNumber + 1}` : ''}`.trim();

  const self = new Map<string, number>();
  const area = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const id of profile.samples) {
    const node = byId.get(id);
    if (!node) continue;
    if (IDLE.has(node.callFrame.functionName)) {
      idle++;
      continue;
    }
    busy++;
    self.set(label(node), (self.get(label(node)) ?? 0) + 1);
    const a = areaOf(node.callFrame.url, node.callFrame.functionName);
    area.set(a, (area.get(a) ?? 0) + 1);
    // Inclusive: every distinct frame of our code on the stack, counted once per sample.
    const onStack = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!;
      const short = shortUrl(frame.callFrame.url);
      if (short.startsWith('apps/') || short.startsWith('packages/')) onStack.add(label(frame));
    }
    for (const key of onStack) inclusive.set(key, (inclusive.get(key) ?? 0) + 1);
  }
  const rank = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const table = (title: string, entries: Array<[string, number]>) =>
    [
      `| ${title} | share of busy samples |`,
      '| --- | --- |',
      ...entries.map(([k, v]) => `| \`${k}\` | ${pct(v, busy)} |`),
    ].join('\n');
  return [
    `${busy + idle} samples, ${pct(idle, busy + idle)} idle; shares below are of the ${busy} busy samples.`,
    '',
    table('area (self time)', rank(area)),
    '',
    table('function (self time)', rank(self)),
    '',
    table('our code on the stack (inclusive)', rank(inclusive)),
  ].join('\n');
}

// `pnpm tsx bench/lib/profile-summary.ts <file.cpuprofile> [top]`
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const [file, top = '30'] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: tsx bench/lib/profile-summary.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${await summarizeProfile(file, Number(top))}\n`);
}
