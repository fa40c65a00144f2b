// The multi-task charts: ROC and PR curves on square 0..1 panels with their chance lines and
// scores, and per-epoch metric panels; checked as XML and by the geometry of their paths.
import { describe, expect, it } from 'vitest';
import { epochChartSvg } from '../src/log/chart-epochs.ts';
import { prChartSvg, rocChartSvg } from '../src/log/chart-curves.ts';
import { auc, prCurve, rocCurve } from '../src/metrics/binary.ts';
import { Rng } from '../src/random.ts';
import { checkXml, seriesPaths, subpaths } from './support/svg.ts';

/** Scores that separate the classes by `gap` (larger: a better model). */
function scored(seed: number, n: number, gap: number): { scores: Float64Array; labels: Float64Array } {
  const rng = new Rng(seed);
  const labels = Float64Array.from({ length: n }, () => (rng.uniform() < 0.25 ? 1 : 0));
  const scores = Float64Array.from(labels, (y) => rng.normal() + gap * y);
  return { scores, labels };
}

/** The plot area of each panel: its two axis lines' lengths. */
function plotSizes(svg: string): { w: number; h: number }[] {
  return svg
    .split('<g class="panel"')
    .slice(1)
    .map((panel) => {
      const axes = [...panel.matchAll(/<line x1="0" x2="([\d.]+)" y1="([\d.]+)" y2="([\d.]+)" stroke="#444"\/>/g)];
      const xAxis = axes.find((m) => m[2] === m[3] && Number(m[1]) > 0) as RegExpMatchArray;
      const yAxis = panel.match(/<line x1="0" x2="0" y1="0" y2="([\d.]+)" stroke="#444"\/>/) as RegExpMatchArray;
      return { w: Number(xAxis[1]), h: Number(yAxis[1]) };
    });
}

const tasks = ['income', 'marital'];
const models = [
  { name: 'MMoE', gap: 2.5 },
  { name: 'single', gap: 1 },
];

describe('rocChartSvg', () => {
  const panels = tasks.map((title, t) => ({
    title,
    series: models.map((m, k) => {
      const { scores, labels } = scored(10 * t + k, 3000, m.gap);
      return { name: m.name, ...rocCurve(scores, labels, { maxPoints: 150 }), auc: auc(scores, labels) };
    }),
  }));
  const svg = rocChartSvg(panels, { title: 'ROC (test)' });

  it('writes well-formed SVG with every curve, one legend, and each AUC', () => {
    checkXml(svg);
    const paths = seriesPaths(svg);
    expect(paths.map((p) => [...p.keys()])).toEqual([['MMoE', 'single'], ['MMoE', 'single']]);
    expect([...svg.matchAll(/<g class="legend-item"[^>]*>.*?<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1])).toEqual(['MMoE', 'single']);
    const notes = [...svg.matchAll(/<g class="notes"[^>]*>\n((?:<text[^>]*>[^<]*<\/text>\n)+)<\/g>/g)].map((m) => [...m[1].matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((t) => t[1]));
    expect(notes.length).toBe(2);
    expect(notes[0]).toEqual([`MMoE  AUC ${panels[0].series[0].auc.toFixed(4)}`, `single  AUC ${panels[0].series[1].auc.toFixed(4)}`]);
    if (typeof DOMParser !== 'undefined') {
      const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
      expect(doc.getElementsByTagName('parsererror').length).toBe(0);
      expect(doc.documentElement.querySelectorAll('g.series > path').length).toBe(4);
      expect(doc.documentElement.querySelectorAll('line.guide').length).toBe(2);
    }
  });

  it('draws square 0..1 plots with the chance diagonal, curves from (0, 0) to (1, 1)', () => {
    for (const { w, h } of plotSizes(svg)) expect(w).toBe(h);
    const { w, h } = plotSizes(svg)[0];
    const panel0 = svg.split('<g class="panel"')[1];
    expect(panel0).toContain(`<line class="guide" x1="0" y1="${h}" x2="${w}" y2="0"`);
    const ticks = [...panel0.matchAll(/<text [^>]*fill="#444">([^<]*)<\/text>/g)].map((m) => Number(m[1]));
    expect(Math.min(...ticks)).toBe(0);
    expect(Math.max(...ticks)).toBe(1);
    expect(ticks.some((t) => t > 0 && t < 1)).toBe(true);
    for (const name of ['MMoE', 'single']) {
      const [sub] = subpaths(seriesPaths(svg)[0].get(name) as string);
      expect(sub[0]).toEqual({ x: 0, y: h });
      expect(sub[sub.length - 1]).toEqual({ x: w, y: 0 });
      expect(sub.length).toBeLessThanOrEqual(150);
    }
    // The better model's curve passes above the weaker one's at the same false positive rate.
    const mid = (name: string): number => {
      const pts = subpaths(seriesPaths(svg)[0].get(name) as string)[0];
      return pts.reduce((best, p) => (Math.abs(p.x - w * 0.2) < Math.abs(best.x - w * 0.2) ? p : best)).y;
    };
    expect(mid('MMoE')).toBeLessThan(mid('single'));
  });

  it('leaves out the AUC note when none is given, and checks the arrays', () => {
    const s = rocChartSvg([{ title: 't', series: [{ name: 'a', fpr: [0, 1], tpr: [0, 1] }] }]);
    checkXml(s);
    expect(s).not.toContain('class="notes"');
    expect(() => rocChartSvg([{ title: 't', series: [{ name: 'a', fpr: [0, 1], tpr: [0] }] }])).toThrow(/curve "a": 2 x values for 1 y values/);
  });
});

describe('prChartSvg', () => {
  const { scores, labels } = scored(3, 2000, 2);
  const pr = prCurve(scores, labels, { maxPoints: 100 });
  const prevalence = labels.reduce((a, b) => a + b, 0) / labels.length;
  const svg = prChartSvg([{ title: 'income', prevalence, series: [{ name: 'MMoE', ...pr }] }]);

  it('draws the curve from (recall 0, precision 1), the positive rate dashed, and the AP', () => {
    checkXml(svg);
    const [{ w, h }] = plotSizes(svg);
    const [sub] = subpaths(seriesPaths(svg)[0].get('MMoE') as string);
    expect(sub[0]).toEqual({ x: 0, y: 0 });
    expect(sub[sub.length - 1].x).toBe(w);
    const yPrev = Math.round(h * (1 - prevalence) * 100) / 100;
    expect(svg).toContain(`<line class="guide" x1="0" y1="${yPrev}" x2="${w}" y2="${yPrev}"`);
    expect(svg).toContain(`MMoE  AP ${pr.averagePrecision.toFixed(4)}`);
    expect(svg).toMatch(/<g class="notes" font-size="11" text-anchor="start">/);
    const noPrevalence = prChartSvg([{ title: 'income', series: [{ name: 'MMoE', ...pr }] }]);
    expect(noPrevalence).not.toContain('class="guide"');
  });
});

describe('epochChartSvg', () => {
  const epochs = [1, 2, 3].map((epoch) => ({
    epoch,
    splits: {
      train: { income: { loss: 0.5 / epoch }, marital: { loss: 0.4 / epoch } },
      val: {
        income: { auc: 0.9 + epoch / 100, logloss: 0.3 / epoch, accuracy: 0.9 + epoch / 100 },
        marital: { auc: epoch === 2 ? undefined : 0.95 + epoch / 100, logloss: 0.2 / epoch, accuracy: 0.95 },
        age: { mse: 1 / epoch },
      },
    },
  }));
  const svg = epochChartSvg(epochs, { title: 'MMoE on census' });

  it('draws one panel per metric in a fixed order, one line per task and split', () => {
    checkXml(svg);
    const titles = [...svg.matchAll(/<g class="panel"[^>]*>\n<text [^>]*font-weight="600">([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(titles).toEqual(['Loss', 'Log loss', 'Accuracy', 'AUC', 'MSE']);
    const paths = seriesPaths(svg);
    expect([...paths[0].keys()]).toEqual(['income train', 'marital train']);
    expect([...paths[3].keys()]).toEqual(['income val', 'marital val']);
    expect([...paths[4].keys()]).toEqual(['age val']);
    // A missing value leaves a gap: marital's AUC has two lone points.
    expect(seriesPaths(svg)[3].get('marital val')).toMatch(/^M[\d.]+,[\d.]+ZM[\d.]+,[\d.]+Z$/);
    expect(subpaths(paths[0].get('income train') as string)[0].length).toBe(3);
    // Three panels per row.
    expect(svg).toMatch(/<svg [^>]*width="1260"/);
  });

  it('rejects epochs without any metric', () => {
    expect(() => epochChartSvg([])).toThrow(/no metrics in the epochs given/);
    expect(() => epochChartSvg([{ epoch: 1, splits: { val: {} } }])).toThrow(/no metrics/);
  });
});
