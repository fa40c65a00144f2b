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
  /** What guessing scores, drawn as a dashed line; null where the metric has none. */
  chance: number | null;
  better: 'higher' | 'lower';
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

/**
 * A y range that shows what matters: chance and the values; losses and errors from zero; and
 * bounded scores (AUC, accuracy) at least 0.1 tall, so that noise of 0.002 does not fill the chart.
 */
export function yRange(min: number | null, max: number | null, chance: number | null, better: 'higher' | 'lower'): [number, number] {
  let lo = min !== null && Number.isFinite(min) ? min : (chance ?? 0);
  let hi = max !== null && Number.isFinite(max) ? max : (chance ?? 1);
  if (chance !== null) (lo = Math.min(lo, chance), (hi = Math.max(hi, chance)));
  const fromZero = better === 'lower' && lo >= 0;
  if (fromZero) lo = 0;
  const unit = lo >= 0 && hi <= 1 && (better === 'higher' || chance !== null);
  const minSpan = unit ? 0.1 : Math.max(Math.abs(hi) * 0.1, 1e-6);
  if (hi - lo < minSpan) {
    const grow = minSpan - (hi - lo);
    if (fromZero) hi = lo + minSpan;
    else (lo -= grow / 2, (hi += grow / 2));
  }
  const pad = (hi - lo) * 0.05;
  lo = fromZero ? lo : lo - pad;
  hi += pad;
  if (unit) (lo = Math.max(0, lo), (hi = Math.min(1, hi)));
  return [lo, hi];
}

/** The last value of a series that has one (the legend's text when nothing is hovered). */
function lastValue(values: readonly (number | null | undefined)[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
}

/** A dashed horizontal line at the chart's chance level. */
function chanceLine(chart: () => Chart | undefined): (u: uPlot) => void {
  return (u) => {
    const c = chart();
    if (!c || c.chance === null) return;
    const y = Math.round(u.valToPos(c.chance, 'y', true));
    const { left, top, width, height } = u.bbox;
    if (y < top || y > top + height) return;
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = '#6b7580';
    ctx.lineWidth = Math.max(1, devicePixelRatio);
    ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + width, y);
    ctx.stroke();
    ctx.fillStyle = '#555f6b';
    ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'bottom';
    ctx.fillText(`chance ${fmt(c.chance)}`, left + width - 4 * devicePixelRatio, y - 3 * devicePixelRatio);
    ctx.restore();
  };
}

export class ChartGrid {
  private charts: Chart[] = [];
  private key = '';
  private pending = false;
  private last: { experiment: string; runs: RunRecord[] } | null = null;
  /** The x range every chart shows: from where the runs start to their planned length. */
  private xSpan: [number, number] | null = null;

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
    // The same x range on every chart: from the earliest start to the longest planned run.
    const planned = runs.flatMap((r) => (r.info ? [r.info] : []));
    const seen = runs.flatMap((r) => [...r.series.values()].flatMap((s) => s.x));
    const lo = Math.min(...planned.map((i) => i.start), ...seen);
    const hi = Math.max(...planned.map((i) => i.length), ...seen);
    this.xSpan = Number.isFinite(lo) && Number.isFinite(hi) ? [lo, Math.max(hi, lo + 1)] : null;
    const specs = new Map(runs.flatMap((r) => metricsOf(ex, r.spec.config).map((m) => [m.tag, m] as const)));
    for (const c of this.charts) {
      const m = specs.get(c.tag);
      c.chance = m?.chance ?? null;
      c.better = m?.better ?? 'lower';
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
    const charts: Chart[] = [];
    this.charts = charts;
    for (const tag of tags) {
      const box = el('div', { class: 'plot' });
      const caption = el('figcaption', {}, tag);
      const figure = el('figure', { class: 'chart', 'data-tag': tag, 'data-points': '0' }, caption, box);
      this.container.append(figure);
      const self = (): Chart | undefined => charts.find((c) => c.tag === tag);
      // Not hovered, the legend shows each run's latest value rather than "--".
      const value = (u: uPlot, v: number | null, sidx: number, idx: number | null): string => {
        const shown = idx === null ? lastValue(u.data[sidx] as (number | null)[]) : v;
        return shown === null ? '–' : sidx === 0 ? String(shown) : fmt(shown);
      };
      const opts: uPlot.Options = {
        width,
        height: HEIGHT,
        scales: {
          x: { time: false, range: (_u, min, max) => this.xSpan ?? [min ?? 0, Math.max(max ?? 1, (min ?? 0) + 1)] },
          y: { range: (_u, min, max) => yRange(min, max, self()?.chance ?? null, self()?.better ?? 'lower') },
        },
        axes: [
          { label: xName, size: 40, labelSize: 16, incrs: INTEGER_STEPS },
          { size: 60, values: (_u, splits) => tickLabels(splits) },
        ],
        legend: { show: runs.length > 0 },
        cursor: { drag: { x: true, y: false } },
        hooks: {
          draw: [chanceLine(self)],
          // The ranges shown, on the figure: for tests and for anyone reading the DOM.
          setScale: [(u, key) => void (figure.dataset[`${key}Range`] = `${u.scales[key].min} ${u.scales[key].max}`)],
        },
        series: [{ label: xName, value }, ...runs.map((r) => ({ label: r.label, stroke: r.color, width: 2, spanGaps: true, points: { size: 4 }, value }))],
      };
      const plot = new uPlot(opts, [[], ...runs.map(() => [])] as uPlot.AlignedData, box);
      charts.push({ tag, plot, figure, caption, box, chance: null, better: 'lower' });
    }
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
