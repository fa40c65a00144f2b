// ROC and precision-recall curves as SVG, for the multi-task experiment's end-of-run charts: one
// square 0..1 panel per task (or per model), several curves per panel with one legend for the
// chart, the chance level dashed, and each curve's AUC or average precision written in the
// corner the curves leave empty. Built on lineChartSvg, so it works in Node and in a browser.
import { lineChartSvg, type ChartOptions, type ChartPanel } from './chart-svg.ts';
import { fixed } from './markdown.ts';

export interface RocSeries {
  name: string;
  fpr: ArrayLike<number>;
  tpr: ArrayLike<number>;
  /** Written beside the name in the panel's corner. */
  auc?: number;
}

export interface PrSeries {
  name: string;
  recall: ArrayLike<number>;
  precision: ArrayLike<number>;
  /** Written beside the name in the panel's corner. */
  averagePrecision?: number;
}

export interface CurvePanel<S> {
  title: string;
  series: S[];
}

export interface PrPanel extends CurvePanel<PrSeries> {
  /** The positive rate of the panel's rows: a random classifier's precision, drawn dashed. */
  prevalence?: number;
}

// Square plots: the panel's margins (left + right 82 px, top + bottom 76 px) differ by 6 px.
const SIDE = 330;
const SQUARE = { panelWidth: SIDE + 6, panelHeight: SIDE };

function toSeries(name: string, x: ArrayLike<number>, y: ArrayLike<number>): { name: string; x: number[]; y: number[] } {
  if (x.length !== y.length) throw new RangeError(`curve "${name}": ${x.length} x values for ${y.length} y values; pass the two arrays of one curve.`);
  return { name, x: Array.from(x), y: Array.from(y) };
}

function notes(series: { name: string }[], label: string, value: (i: number) => number | undefined, corner: 'bottom-left' | 'bottom-right'): ChartPanel['notes'] {
  const lines = series.flatMap((s, i) => {
    const v = value(i);
    return v === undefined ? [] : [`${s.name}  ${label} ${fixed(v, 4)}`];
  });
  return lines.length ? { lines, corner } : undefined;
}

/** ROC curves: false positive rate across, true positive rate up, the chance diagonal dashed. */
export function rocChartSvg(panels: CurvePanel<RocSeries>[], options: ChartOptions = {}): string {
  return lineChartSvg(
    panels.map((p) => ({
      title: p.title,
      xLabel: 'false positive rate',
      yLabel: 'true positive rate',
      xDomain: [0, 1],
      yDomain: [0, 1],
      guides: [{ x1: 0, y1: 0, x2: 1, y2: 1 }],
      series: p.series.map((s) => toSeries(s.name, s.fpr, s.tpr)),
      // ROC curves bow towards the top left: the bottom right stays empty.
      notes: notes(p.series, 'AUC', (i) => p.series[i].auc, 'bottom-right'),
    })),
    { ...SQUARE, ...options },
  );
}

/** Precision-recall curves: recall across, precision up, the positive rate dashed when given. */
export function prChartSvg(panels: PrPanel[], options: ChartOptions = {}): string {
  return lineChartSvg(
    panels.map((p) => ({
      title: p.title,
      xLabel: 'recall',
      yLabel: 'precision',
      xDomain: [0, 1],
      yDomain: [0, 1],
      guides: p.prevalence === undefined ? [] : [{ x1: 0, y1: p.prevalence, x2: 1, y2: p.prevalence }],
      series: p.series.map((s) => toSeries(s.name, s.recall, s.precision)),
      // PR curves start at the top left and fall to the right: the bottom left stays empty.
      notes: notes(p.series, 'AP', (i) => p.series[i].averagePrecision, 'bottom-left'),
    })),
    { ...SQUARE, ...options },
  );
}
