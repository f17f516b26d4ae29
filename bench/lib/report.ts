/**
 * The bench's report: every line goes to the console and into a Markdown file (BENCH_REPORT,
 * default .bench-out/bench-report.md) with the run's metadata and a closing table of goals,
 * each verdict computed from the figure printed beside it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { dirname } from 'node:path';

export interface Goal {
  readonly goal: string;
  /** The figure, in words, the verdict follows from. */
  readonly measured: string;
  /** undefined: not measured (errors in every round, a section that did not run). */
  readonly met: boolean | undefined;
}

export const verdict = (met: boolean | undefined) => (met === undefined ? 'not measured' : met ? 'met' : 'missed');

export class Report {
  private readonly lines: string[] = [];
  private readonly goals: Goal[] = [];
  private readonly started = new Date();
  private readonly loadAtStart = loadavg();

  print(line = ''): void {
    this.lines.push(line);
    console.log(line);
  }

  section(title: string, lines: readonly string[]): void {
    this.print(`\n### ${title}\n`);
    for (const line of lines) this.print(line);
  }

  goal(...goals: Goal[]): void {
    this.goals.push(...goals);
  }

  /** Prints the goal table and writes the file: metadata, every section, the goals. */
  write(file: string, settings: Record<string, string>): void {
    this.print('\n### Goals\n');
    this.print('| goal | measured in this run | verdict |');
    this.print('|---|---|---|');
    for (const g of this.goals) this.print(`| ${g.goal} | ${g.measured} | ${verdict(g.met)} |`);
    const minutes = (Date.now() - this.started.getTime()) / 60_000;
    const meta = [
      '# Benchmark report',
      '',
      `- command: \`${Object.entries(settings).map(([k, v]) => `${k}=${v}`).join(' ')} npm run bench\``,
      `- started ${this.started.toISOString()}, took ${minutes.toFixed(1)} min`,
      `- commit ${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain']) ? ' (with uncommitted changes)' : ''}`,
      `- Node ${process.version}, Linux ${release()}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${memTotalGiB()}`,
      `- load average at start ${this.loadAtStart.map((l) => l.toFixed(2)).join(' ')}, at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on the machine lowers every wall-clock figure)`,
      '',
    ];
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${[...meta, ...this.lines].join('\n')}\n`);
    console.error(`report written to ${file}`);
  }
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

function memTotalGiB(): string {
  try {
    const kb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
    return `${(kb / 2 ** 20).toFixed(0)} GiB`;
  } catch {
    return 'memory unknown';
  }
}
