/** Summarise a V8 .cpuprofile (node --cpu-prof): self time per function, and per source area. */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface ProfileSummary {
  totalMs: number;
  top: { fn: string; where: string; selfMs: number; pct: number }[];
  byArea: { area: string; selfMs: number; pct: number }[];
}

/** Which part of the system a frame belongs to (for "where the time goes"). */
function area(url: string, fn: string): string {
  if (!url) return fn === '(garbage collector)' ? 'GC' : fn === '(idle)' ? 'idle' : fn === '(program)' ? 'native/program' : 'native';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return `dep: ${m[1]}`;
  const own = /\/(services\/[^/]+|gateway\/[^/]+|bin)\//.exec(url);
  if (own) return own[1]!;
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/')[0]}`;
  return 'other';
}

export function summariseProfile(file: string, topN = 25): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  const fnTotals = new Map<string, { fn: string; where: string; us: number }>();
  const areaTotals = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') continue;
    total += us;
    const where = url ? `${url.replace(/^file:\/\/.*?\/(node_modules|services|gateway|bin|bench)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const cur = fnTotals.get(key) ?? { fn: functionName || '(anonymous)', where, us: 0 };
    cur.us += us;
    fnTotals.set(key, cur);
    const a = area(url, functionName);
    areaTotals.set(a, (areaTotals.get(a) ?? 0) + us);
  }
  const pct = (us: number) => Math.round((us / total) * 1000) / 10;
  return {
    totalMs: Math.round(total / 1000),
    top: [...fnTotals.values()].sort((a, b) => b.us - a.us).slice(0, topN).map((f) => ({ fn: f.fn, where: f.where, selfMs: Math.round(f.us / 1000), pct: pct(f.us) })),
    byArea: [...areaTotals.entries()].sort((a, b) => b[1] - a[1]).map(([a, us]) => ({ area: a, selfMs: Math.round(us / 1000), pct: pct(us) })),
  };
}
