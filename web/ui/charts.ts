// Live charts, one per tag, every shown run of the experiment overlaid in its own colour (as
// TensorBoard draws runs). Each chart is a <figure> whose caption says the latest values in
// words, for screen readers and for anyone who wants the number rather than the line.
import uPlot from 'uplot';
import { experiment as experimentNamed } from '../../src/experiments/registry.ts';
import { metricsOf } from '../../src/experiments/types.ts';
import type { RunRecord } from './runs.ts';
import { el } from './dom.ts';

interface Chart {
  tag: string;
  plot: uPlot;
  figure: HTMLElement;
  caption: HTMLElement;
  box: HTMLElement;
}

const HEIGHT = 190;

/** Epochs and steps are whole numbers: ticks at 1, 2, 5, 10, 20, 50, … */
const INTEGER_STEPS = Array.from({ length: 24 }, (_, i) => [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3));

function fmt(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toPrecision(4);
}

/** Enough decimals to write the tick increment exactly (2.5 → 1, 0.0005 → 4). */
function tickLabels(splits: number[]): string[] {
  const step = splits.length > 1 ? Math.abs(splits[1] - splits[0]) : Math.abs(splits[0]) || 1;
  let digits = 0;
  while (digits < 8 && Math.abs(Math.round(step * 10 ** digits) - step * 10 ** digits) > 1e-6 * step * 10 ** digits) digits++;
  return splits.map((v) => (Math.abs(v) >= 1e5 ? v.toExponential(1) : v.toFixed(digits)));
}

export class ChartGrid {
  private charts: Chart[] = [];
  private key = '';
  private pending = false;
  private last: { experiment: string; runs: RunRecord[] } | null = null;

  constructor(private readonly container: HTMLElement) {
    new ResizeObserver(() => this.resize()).observe(container);
  }

  /** Redraws at the next frame (many messages may arrive in one). */
  update(experiment: string, runs: RunRecord[]): void {
    this.last = { experiment, runs };
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      if (this.last) this.draw(this.last.experiment, this.last.runs);
    });
  }

  private draw(experiment: string, all: RunRecord[]): void {
    const runs = all.filter((r) => r.experiment === experiment && r.visible);
    // One chart per metric, in the descriptor's order, against the unit it trains in.
    const ex = experimentNamed(experiment);
    const xName = ex.unit;
    // Runs of one experiment may log different metrics (a multi-task run's tasks): every tag any of them logs.
    const tags = [...new Set(runs.flatMap((r) => metricsOf(ex, r.spec.config).map((m) => m.tag)))];
    // No run of this experiment yet: no empty frames.
    this.container.hidden = runs.length === 0;
    const key = `${experiment}:${runs.map((r) => r.id).join(',')}`;
    if (key !== this.key) this.rebuild(key, xName, tags, runs);
    for (const c of this.charts) {
      const xs = [...new Set(runs.flatMap((r) => r.series.get(c.tag)?.x ?? []))].sort((a, b) => a - b);
      const ys = runs.map((r) => {
        const s = r.series.get(c.tag);
        const at = new Map<number, number>();
        s?.x.forEach((x, i) => at.set(x, s.y[i]));
        return xs.map((x) => at.get(x) ?? null);
      });
      c.plot.setData([xs, ...ys] as uPlot.AlignedData);
      const parts = runs.flatMap((r) => {
        const s = r.series.get(c.tag);
        if (!s || s.x.length === 0) return [];
        const i = s.x.length - 1;
        return [`${r.label}: ${fmt(s.y[i])} at ${xName} ${s.x[i]}`];
      });
      c.caption.textContent = `${c.tag}${parts.length ? ` — ${parts.join('; ')}` : ' — no values yet'}`;
      c.figure.dataset.points = String(runs.reduce((n, r) => n + (r.series.get(c.tag)?.x.length ?? 0), 0));
    }
  }

  private rebuild(key: string, xName: string, tags: readonly string[], runs: RunRecord[]): void {
    for (const c of this.charts) c.plot.destroy();
    this.container.replaceChildren();
    this.key = key;
    const width = this.chartWidth();
    this.charts = tags.map((tag) => {
      const box = el('div', { class: 'plot' });
      const caption = el('figcaption', {}, tag);
      const figure = el('figure', { class: 'chart', 'data-tag': tag, 'data-points': '0' }, caption, box);
      this.container.append(figure);
      const opts: uPlot.Options = {
        width,
        height: HEIGHT,
        scales: { x: { time: false } },
        axes: [
          { label: xName, size: 40, labelSize: 16, incrs: INTEGER_STEPS },
          { size: 60, values: (_u, splits) => tickLabels(splits) },
        ],
        legend: { show: runs.length > 0 },
        cursor: { drag: { x: true, y: false } },
        series: [{ label: xName }, ...runs.map((r) => ({ label: r.label, stroke: r.color, width: 2, spanGaps: true, points: { show: true, size: 4 } }))],
      };
      const plot = new uPlot(opts, [[], ...runs.map(() => [])] as uPlot.AlignedData, box);
      return { tag, plot, figure, caption, box };
    });
  }

  private chartWidth(): number {
    const w = this.container.clientWidth;
    // Two columns when there is room for two readable charts, else one.
    const cols = w >= 760 ? 2 : 1;
    return Math.max(240, Math.floor((w - (cols - 1) * 16) / cols) - 2);
  }

  private resize(): void {
    const width = this.chartWidth();
    for (const c of this.charts) if (Math.abs(c.plot.width - width) > 1) c.plot.setSize({ width, height: HEIGHT });
  }
}
