// Line charts as standalone SVG text, for the --experiments comparison reports: panels side by
// side (say "Mean reciprocal rank" and "Test MSE" per epoch), several series per panel, one
// legend for the whole chart (a series keeps its colour in every panel). d3-scale picks the
// ticks and d3-shape draws the lines; the SVG itself is written here, so it works in Node and in
// a browser without a DOM.
import { scaleLinear, type ScaleLinear } from 'd3-scale';
import { line } from 'd3-shape';

export interface ChartSeries {
  name: string;
  /** y per point; null, NaN or ±Infinity leave a gap in the line. */
  y: ReadonlyArray<number | null>;
  /** x per point; defaults to 1, 2, 3, ... (epochs). */
  x?: ReadonlyArray<number>;
}

export interface ChartPanel {
  title: string;
  xLabel?: string;
  yLabel?: string;
  series: ChartSeries[];
  /** Fixed axis ranges (a ROC plot's 0..1); default: the data's range, widened to round ticks. */
  xDomain?: [number, number];
  yDomain?: [number, number];
  /** Reference lines in data coordinates, drawn dashed under the series (a ROC plot's chance diagonal). */
  guides?: { x1: number; y1: number; x2: number; y2: number }[];
  /** Lines of text in a bottom corner of the plot (each series' AUC), where curves seldom pass. */
  notes?: { lines: string[]; corner: 'bottom-left' | 'bottom-right' };
}

export interface ChartOptions {
  title?: string;
  /** Size of one panel in pixels (default 420 × 300). */
  panelWidth?: number;
  panelHeight?: number;
  /** Panels per row (default: all in one row). */
  columns?: number;
  /** Series colours, by order of first appearance (default: the category10 palette). */
  colors?: string[];
}

const CATEGORY10 = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
// Inside a panel: room for tick labels and axis labels.
const MARGIN = { top: 30, right: 18, bottom: 46, left: 64 };
const LEGEND_ROW = 20;
const TITLE_HEIGHT = 34;

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** Rough width of text in a sans-serif font: enough to lay out the legend without a DOM. */
function textWidth(text: string, fontSize: number): number {
  let em = 0;
  for (const c of text) {
    if ("il.,:;|!'()[]{} ".includes(c)) em += 0.3;
    else if ('fjrt-'.includes(c)) em += 0.38;
    else if ('mwMW@%'.includes(c)) em += 0.85;
    else if (c >= 'A' && c <= 'Z') em += 0.68;
    else em += 0.56;
  }
  return em * fontSize;
}

const num = (v: number): string => String(Math.round(v * 100) / 100);

interface Point {
  x: number;
  y: number;
}

function pointsOf(s: ChartSeries): (Point | null)[] {
  if (s.x && s.x.length !== s.y.length) throw new RangeError(`chart series "${s.name}": ${s.x.length} x values for ${s.y.length} y values`);
  return s.y.map((y, i) => {
    const x = s.x ? s.x[i] : i + 1;
    return y !== null && Number.isFinite(y) && Number.isFinite(x) ? { x, y } : null;
  });
}

/** A domain that a linear scale can nice() and tick: a single value gets room around it. */
function domainOf(values: number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) {
    const pad = Math.abs(lo) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  return [lo, hi];
}

function panelSvg(panel: ChartPanel, colorOf: (name: string) => string, width: number, height: number): string {
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const series = panel.series.map((s) => ({ s, pts: pointsOf(s) }));
  const defined = series.flatMap(({ pts }) => pts.filter((p): p is Point => p !== null));
  const xs = series.flatMap(({ s }) => (s.x ? s.x.filter(Number.isFinite) : s.y.map((_, i) => i + 1)));
  // Whole-number ticks only for epochs and steps; a fixed range is a continuous axis.
  const integerX = !panel.xDomain && xs.every(Number.isInteger);

  // nice() with the tick count the axis uses, so both ends of an axis are ticks.
  const xCount = Math.max(2, Math.floor(plotW / 70));
  const yCount = Math.max(2, Math.floor(plotH / 45));
  const x: ScaleLinear<number, number> = scaleLinear()
    .domain(panel.xDomain ?? (xs.length === 1 ? [xs[0] - 1, xs[0] + 1] : domainOf(xs)))
    .range([0, plotW]);
  const y: ScaleLinear<number, number> = scaleLinear()
    .domain(panel.yDomain ?? domainOf(defined.map((p) => p.y)))
    .range([plotH, 0]);
  if (!panel.xDomain) x.nice(xCount);
  if (!panel.yDomain) y.nice(yCount);
  const xTicks = x.ticks(xCount).filter((t) => !integerX || Number.isInteger(t));
  const yTicks = y.ticks(yCount);
  const xFormat = x.tickFormat(xTicks.length);
  const yFormat = y.tickFormat(yTicks.length);

  const out: string[] = [];
  out.push(`<text x="${num(MARGIN.left + plotW / 2)}" y="18" text-anchor="middle" font-size="14" font-weight="600">${escapeXml(panel.title)}</text>`);
  out.push(`<g transform="translate(${MARGIN.left},${MARGIN.top})">`);
  // Grid and ticks.
  for (const t of yTicks) {
    const py = num(y(t));
    out.push(`<line x1="0" x2="${num(plotW)}" y1="${py}" y2="${py}" stroke="#e5e5e5"/>`);
    out.push(`<text x="-6" y="${py}" dy="0.32em" text-anchor="end" font-size="11" fill="#444">${escapeXml(yFormat(t))}</text>`);
  }
  for (const t of xTicks) {
    const px = num(x(t));
    out.push(`<line x1="${px}" x2="${px}" y1="${num(plotH)}" y2="${num(plotH + 5)}" stroke="#444"/>`);
    out.push(`<text x="${px}" y="${num(plotH + 17)}" text-anchor="middle" font-size="11" fill="#444">${escapeXml(integerX ? String(t) : xFormat(t))}</text>`);
  }
  out.push(`<line x1="0" x2="${num(plotW)}" y1="${num(plotH)}" y2="${num(plotH)}" stroke="#444"/>`);
  out.push(`<line x1="0" x2="0" y1="0" y2="${num(plotH)}" stroke="#444"/>`);
  if (panel.xLabel) out.push(`<text x="${num(plotW / 2)}" y="${num(plotH + 36)}" text-anchor="middle" font-size="12">${escapeXml(panel.xLabel)}</text>`);
  if (panel.yLabel) {
    out.push(`<text transform="translate(${-MARGIN.left + 14},${num(plotH / 2)}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(panel.yLabel)}</text>`);
  }
  for (const g of panel.guides ?? []) {
    out.push(`<line class="guide" x1="${num(x(g.x1))}" y1="${num(y(g.y1))}" x2="${num(x(g.x2))}" y2="${num(y(g.y2))}" stroke="#999" stroke-dasharray="4 4"/>`);
  }
  if (defined.length === 0) {
    out.push(`<text x="${num(plotW / 2)}" y="${num(plotH / 2)}" text-anchor="middle" font-size="12" fill="#888">no data</text>`);
  }
  // Lines: a point that is not a number ends a segment; isolated points get a dot, since a
  // line through one point draws nothing.
  const path = line<Point | null>()
    .defined((p) => p !== null)
    .x((p) => x((p as Point).x))
    .y((p) => y((p as Point).y))
    .digits(2);
  for (const { s, pts } of series) {
    const color = colorOf(s.name);
    const name = escapeXml(s.name);
    out.push(`<g class="series" data-series="${name}">`);
    const d = path(pts);
    if (d) out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>`);
    pts.forEach((p, i) => {
      if (p !== null && !pts[i - 1] && !pts[i + 1]) out.push(`<circle cx="${num(x(p.x))}" cy="${num(y(p.y))}" r="3" fill="${color}"/>`);
    });
    out.push(`<title>${name}</title></g>`);
  }
  if (panel.notes) {
    const right = panel.notes.corner === 'bottom-right';
    const lines = panel.notes.lines;
    out.push(`<g class="notes" font-size="11" text-anchor="${right ? 'end' : 'start'}">`);
    lines.forEach((text, i) => {
      out.push(`<text x="${right ? num(plotW - 8) : 8}" y="${num(plotH - 8 - (lines.length - 1 - i) * 15)}">${escapeXml(text)}</text>`);
    });
    out.push('</g>');
  }
  out.push('</g>');
  return out.join('\n');
}

/** The chart as a complete SVG document. */
export function lineChartSvg(panels: ChartPanel[], options: ChartOptions = {}): string {
  if (panels.length === 0) throw new RangeError('a chart needs at least one panel');
  const panelWidth = options.panelWidth ?? 420;
  const panelHeight = options.panelHeight ?? 300;
  const columns = Math.max(1, Math.min(options.columns ?? panels.length, panels.length));
  const rows = Math.ceil(panels.length / columns);
  const width = columns * panelWidth;
  const palette = options.colors?.length ? options.colors : CATEGORY10;

  // One colour per series name, in order of first appearance across panels.
  const names: string[] = [];
  for (const p of panels) for (const s of p.series) if (!names.includes(s.name)) names.push(s.name);
  const colorOf = (name: string): string => palette[names.indexOf(name) % palette.length];

  // Legend items flow left to right and wrap.
  const legend: string[] = [];
  let lx = 0;
  let row = 0;
  const items: { name: string; x: number; row: number }[] = [];
  for (const name of names) {
    const w = 26 + textWidth(name, 12) + 22;
    if (lx > 0 && lx + w > width - 32) {
      lx = 0;
      row++;
    }
    items.push({ name, x: lx, row });
    lx += w;
  }
  const legendRows = names.length ? row + 1 : 0;
  const titleHeight = options.title ? TITLE_HEIGHT : 8;
  const legendTop = titleHeight;
  const panelsTop = legendTop + legendRows * LEGEND_ROW + (legendRows ? 6 : 0);
  const height = panelsTop + rows * panelHeight;
  // Centre each legend row.
  for (let r = 0; r < legendRows; r++) {
    const inRow = items.filter((it) => it.row === r);
    const last = inRow[inRow.length - 1];
    const rowWidth = last.x + 26 + textWidth(last.name, 12);
    const offset = (width - rowWidth) / 2;
    for (const it of inRow) {
      const cy = legendTop + r * LEGEND_ROW + LEGEND_ROW / 2;
      legend.push(
        `<g class="legend-item" transform="translate(${num(offset + it.x)},${num(cy)})">` +
          `<line x1="0" x2="20" y1="0" y2="0" stroke="${colorOf(it.name)}" stroke-width="3"/>` +
          `<text x="26" y="0" dy="0.32em" font-size="12">${escapeXml(it.name)}</text></g>`,
      );
    }
  }

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${num(height)}" viewBox="0 0 ${width} ${num(height)}" ${FONT} fill="#222">`,
  );
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  if (options.title) out.push(`<text class="chart-title" x="${num(width / 2)}" y="23" text-anchor="middle" font-size="16" font-weight="600">${escapeXml(options.title)}</text>`);
  if (legend.length) out.push(`<g class="legend">\n${legend.join('\n')}\n</g>`);
  panels.forEach((panel, i) => {
    const px = (i % columns) * panelWidth;
    const py = panelsTop + Math.floor(i / columns) * panelHeight;
    out.push(`<g class="panel" transform="translate(${px},${num(py)})">\n${panelSvg(panel, colorOf, panelWidth, panelHeight)}\n</g>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
