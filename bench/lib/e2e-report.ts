/**
 * Markdown for the end-to-end benchmark: per row, the best error-free round (a row with errors
 * never counts as a best) with the spread over all rounds; ratios to the ceiling (a) per round;
 * the goals with their verdicts; CPU seconds per 1,000 sessions by process.
 */
import { cacheCell, type CacheCheck } from './cache-share.js';
import { median, spread } from './stats.js';
import type { LoadFigures } from './ws-load.js';

export interface Measured {
  readonly target: string;
  readonly key: string;
  readonly row: string;
  readonly round: number;
  readonly figures: LoadFigures;
  /** CPU seconds over the row. */
  readonly cpu: { readonly centrifugo: number; readonly proxy?: number; readonly client: number };
  /** Our service's cache shares against what the sessions imply, when checked. */
  readonly cache?: CacheCheck;
}

/** A row that counts for nothing: failed sessions, or a cache share its sessions do not imply. */
export const rowFailed = (m: Measured): boolean => m.figures.errors > 0 || m.cache?.failure !== undefined;

export const MAX_ROW = 'max';
const fmt = (n: number, digits = 0) => n.toFixed(digits);
/** The best clean round of a row, or undefined when every round failed. */
function best(rounds: Measured[]): Measured | undefined {
  return rounds.filter((m) => !rowFailed(m)).sort((x, y) => y.figures.achieved - x.figures.achieved)[0];
}

export function e2eReport(all: Measured[], rowOrder: string[], targetOrder: string[]): string[] {
  const lines: string[] = [];
  const pick = (key: string, row: string) => all.filter((m) => m.key === key && m.row === row).sort((x, y) => x.round - y.round);
  const nameOf = (key: string) => all.find((m) => m.key === key)?.target ?? key;

  lines.push('| row | target | sessions/s (best clean round) | spread over rounds | p50 ms | p99 ms | errors (all rounds) | cache hits (that round; expected ≤ 1%) | ratio to (a) |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---|---:|');
  for (const row of rowOrder) {
    const ceiling = best(pick('a', row));
    for (const key of targetOrder) {
      const rounds = pick(key, row);
      if (rounds.length === 0) continue;
      const b = best(rounds);
      const errors = rounds.reduce((sum, m) => sum + m.figures.errors, 0);
      const shown = b ?? rounds.sort((x, y) => y.figures.achieved - x.figures.achieved)[0]!;
      const achieved = `${fmt(shown.figures.achieved)}${b ? '' : ' ✗ (errors or a wrong cache share in every round)'}`;
      const ratio = b && ceiling && key !== 'a' ? `${fmt(b.figures.achieved / ceiling.figures.achieved, 2)}×` : '';
      const label = row === MAX_ROW ? shown.figures.offered : `${row}/s offered`;
      lines.push(`| ${label} | ${nameOf(key)} | ${achieved} | ${spread(rounds.map((m) => m.figures.achieved))} | ${fmt(shown.figures.p50ms, 1)} | ${fmt(shown.figures.p99ms, 1)} | ${errors} | ${cacheCell(shown.cache)} | ${ratio} |`);
    }
  }
  return lines;
}

/** Per-round ratios of the max row to (a) in the same round, and the ≥ 0.7× verdicts. */
export function ratioVerdicts(all: Measured[], keys: string[], goal: number): string[] {
  const lines = ['', `Max throughput, ratio to (a) in the same round (rounds interleaved; ✗ = that round had errors):`, ''];
  lines.push('| target | per round | median | best ÷ best | goal | verdict |');
  lines.push('|---|---|---:|---:|---:|---|');
  const rounds = (key: string) => all.filter((m) => m.key === key && m.row === MAX_ROW).sort((x, y) => x.round - y.round);
  const ceilings = rounds('a');
  const ceilingBest = best(ceilings);
  for (const key of keys) {
    const mine = rounds(key);
    if (mine.length === 0) continue;
    const ratios = mine.map((m) => {
      const a = ceilings.find((c) => c.round === m.round);
      return { ratio: a ? m.figures.achieved / a.figures.achieved : NaN, clean: !rowFailed(m) && a !== undefined && !rowFailed(a) };
    });
    const cleanRatios = ratios.filter((r) => r.clean).map((r) => r.ratio);
    const mineBest = best(mine);
    const bb = mineBest && ceilingBest ? mineBest.figures.achieved / ceilingBest.figures.achieved : NaN;
    const verdict = Number.isNaN(bb) ? 'not measured (errors)' : bb >= goal ? 'met' : 'missed';
    const med = median(cleanRatios);
    lines.push(
      `| ${mine[0]!.target} | ${ratios.map((r) => `${fmt(r.ratio, 2)}${r.clean ? '' : ' ✗'}`).join(', ')} | ${Number.isNaN(med) ? '–' : `${fmt(med, 2)}×`} | ${Number.isNaN(bb) ? '–' : `${fmt(bb, 2)}×`} | ≥ ${goal}× | ${verdict}${!Number.isNaN(med) && med >= goal !== bb >= goal ? ` (median ${med >= goal ? 'meets' : 'misses'} it)` : ''} |`,
    );
  }
  return lines;
}

/** p99 at one open-loop rate against a bound, per round. */
export function p99Verdicts(all: Measured[], keys: string[], row: string, boundMs: number): string[] {
  const lines = ['', `p99 at ${row} sessions/s offered (connect + subscribe through Centrifugo; ✗ = that round had errors):`, ''];
  lines.push('| target | p99 ms per round | best error-free | median | goal | verdict |');
  lines.push('|---|---|---:|---:|---:|---|');
  for (const key of keys) {
    const rounds = all.filter((m) => m.key === key && m.row === row).sort((x, y) => x.round - y.round);
    if (rounds.length === 0) continue;
    const clean = rounds.filter((m) => !rowFailed(m)).map((m) => m.figures.p99ms);
    const bestP99 = clean.length > 0 ? Math.min(...clean) : NaN;
    const med = median(clean);
    const verdict = Number.isNaN(bestP99) ? 'missed (errors in every round)' : bestP99 < boundMs ? (med < boundMs ? 'met' : 'met in the best round only') : 'missed';
    lines.push(`| ${rounds[0]!.target} | ${rounds.map((m) => `${fmt(m.figures.p99ms, 1)}${rowFailed(m) ? ' ✗' : ''}`).join(', ')} | ${Number.isNaN(bestP99) ? '–' : fmt(bestP99, 1)} | ${Number.isNaN(med) ? '–' : fmt(med, 1)} | < ${boundMs} ms | ${verdict} |`);
  }
  return lines;
}

/**
 * Where the time goes: CPU seconds per 1,000 sessions by process (median over rounds), and the
 * sessions per second the server core could carry at that cost (1 / (Centrifugo + proxy CPU per
 * session)), a capacity figure that other work on the machine disturbs far less than wall-clock
 * throughput.
 */
export function cpuTable(all: Measured[], keys: string[], rows: string[]): string[] {
  const lines = ['', 'CPU seconds per 1,000 sessions (median over rounds; /proc/<pid>/stat of Centrifugo and the proxy, process.cpuUsage() of the load generator), and the capacity of one server core at that cost:', ''];
  lines.push('| row | target | Centrifugo | proxy | server core (median of per-round sums) | ⇒ sessions/s per core | ratio to (a) | load generator | load generator busy |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const serverPer1k = (key: string) => {
      const rounds = all.filter((m) => m.key === key && m.row === row && m.figures.sessions > 0);
      return median(rounds.map((m) => ((m.cpu.centrifugo + (m.cpu.proxy ?? 0)) / m.figures.sessions) * 1000));
    };
    const ceiling = serverPer1k('a');
    for (const key of keys) {
      const rounds = all.filter((m) => m.key === key && m.row === row && m.figures.sessions > 0);
      if (rounds.length === 0) continue;
      const per1k = (f: (m: Measured) => number | undefined) => {
        const values = rounds.flatMap((m) => {
          const cpu = f(m);
          return cpu === undefined ? [] : [(cpu / m.figures.sessions) * 1000];
        });
        return values.length === 0 ? '–' : fmt(median(values), 3);
      };
      const server = serverPer1k(key);
      const ratio = key !== 'a' && !Number.isNaN(ceiling) ? `${fmt(ceiling / server, 2)}×` : '';
      const busy = median(rounds.map((m) => m.cpu.client / m.figures.seconds));
      const label = row === MAX_ROW ? 'max' : `${row}/s`;
      lines.push(
        `| ${label} | ${rounds[0]!.target} | ${per1k((m) => m.cpu.centrifugo)} | ${per1k((m) => m.cpu.proxy)} | ${fmt(server, 3)} | ${fmt(1_000_000 / (server * 1000))} | ${ratio} | ${per1k((m) => m.cpu.client)} | ${fmt(busy * 100)}% |`,
      );
    }
  }
  return lines;
}
