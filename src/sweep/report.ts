// A sweep's report: a markdown table of the final test metrics, mean ± sd over the seeds of each
// configuration (the runs that differ only in seed), and an SVG chart of them per evaluation.
// A spec that names a preset (`report: hw0`) gets that preset's own table instead (the CLI calls
// it). Text only: the CLI writes the files. Browser-safe.
import { formatValue } from '../experiments/options.ts';
import { metricsOf, type AnyExperiment, type RunResult } from '../experiments/types.ts';
import { lineChartSvg, type ChartPanel } from '../log/chart-svg.ts';
import { markdownTable, meanStd } from '../log/markdown.ts';
import type { Configuration } from './expand.ts';

export interface ReportRun {
  c: Configuration;
  result: RunResult<object>;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Sample standard deviation (0 for one seed). */
const sd = (xs: number[]): number => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));

function final(r: RunResult<object>, key: string): number {
  const v = r.evaluations[r.evaluations.length - 1]?.values[key];
  return typeof v === 'number' ? v : NaN;
}

/** The runs grouped by their swept settings other than the seed, in the sweep's order. */
export function bySeedGroup(runs: readonly ReportRun[]): { row: Record<string, string>; runs: ReportRun[] }[] {
  const groups = new Map<string, { row: Record<string, string>; runs: ReportRun[] }>();
  for (const r of runs) {
    const row = Object.fromEntries(Object.entries(r.c.swept).filter(([k]) => k !== 'seed').map(([k, v]) => [k, formatValue(v)]));
    const key = JSON.stringify(row);
    if (!groups.has(key)) groups.set(key, { row, runs: [] });
    groups.get(key)?.runs.push(r);
  }
  return [...groups.values()];
}

export function sweepReport(ex: AnyExperiment, spec: string, runs: readonly ReportRun[], total: number, adapter: string): { table: string; chart: string } {
  const groups = bySeedGroup(runs);
  const fields = [...new Set(groups.flatMap((g) => Object.keys(g.row)))];
  const metrics = [...new Map(runs.flatMap((r) => metricsOf(ex, r.result.config)).filter((m) => m.test).map((m) => [m.key, m])).values()];
  const headers = [...fields, 'seeds', ...metrics.map((m) => `${m.tag} (mean ± sd)`), 'ms/step'];
  const rows = groups.map((g) => [
    ...fields.map((f) => g.row[f] ?? ''),
    String(g.runs.length),
    ...metrics.map((m) => {
      const xs = g.runs.map((r) => final(r.result, m.key)).filter(Number.isFinite);
      return xs.length ? meanStd(mean(xs), sd(xs), 4) : '–';
    }),
    mean(g.runs.map((r) => r.result.msPerStep)).toFixed(2),
  ]);
  const missing = total - runs.length;
  const table = [
    `# Sweep ${spec}: ${ex.name}`,
    '',
    `${runs.length} of ${total} configurations finished${missing ? ` (${missing} still to run)` : ''}, in ${groups.length} group${groups.length === 1 ? '' : 's'} of seeds. Each row: the final evaluation's held-out metrics, mean ± sample sd over its seeds. Adapter: ${adapter}.`,
    '',
    markdownTable(headers, rows, [...fields.map(() => 'left' as const), 'right', ...metrics.map(() => 'right' as const), 'right']),
    '',
  ].join('\n');
  const panels: ChartPanel[] = metrics.slice(0, 2).map((m) => ({
    title: m.tag,
    xLabel: ex.unit,
    yLabel: m.tag,
    series: groups.map((g) => {
      // Evaluations of the group's runs, matched by when they were taken (a resumed run has fewer).
      const ats = [...new Set(g.runs.flatMap((r) => r.result.evaluations.map((e) => e.at)))].sort((a, b) => a - b);
      const y = ats.map((at) => {
        const xs = g.runs.map((r) => r.result.evaluations.find((e) => e.at === at)?.values[m.key]).filter((v): v is number => typeof v === 'number');
        return xs.length ? mean(xs) : null;
      });
      return { name: Object.values(g.row).join(' ') || ex.name, x: ats, y };
    }),
  }));
  return { table, chart: lineChartSvg(panels, { title: `${spec}: ${metrics.slice(0, 2).map((m) => m.tag).join(', ')} per ${ex.unit} (mean over seeds)` }) };
}
