// How much each gate of a mixture of experts (one per task in MMoE, one shared in OMoE) weighs
// each expert: the softmax of its logits, averaged over test rows. Computed on the host in
// float64 from the trained weights (one readback at the end of a run, none per step), as the
// gate layer computes it: one packed table row per categorical field, plus the continuous
// columns' product, plus the bias.
import { escapeXml } from '../../log/chart-svg.ts';
import type { Parameter } from '../../nn/module.ts';
import { featureBatch } from './batches.ts';
import { MixtureOfExperts } from './nets.ts';
import type { MultitaskTrainer } from './trainer.ts';

export interface GateUsage {
  /** One name per gate: the task it feeds, or "all tasks" for OMoE's single gate. */
  gates: string[];
  experts: number;
  /** usage[gate][expert]: the mean gate weight over `rows` test rows; each gate's row sums to 1. */
  usage: number[][];
  rows: number;
}

/** Test rows averaged over: enough for a stable mean, few enough to stay instant on the host. */
const MAX_ROWS = 4096;

/** The gates' mean weights over the first test rows; null for models without gates. */
export async function gateUsage(trainer: MultitaskTrainer, maxRows = MAX_ROWS): Promise<GateUsage | null> {
  const net = trainer.model.net;
  if (!(net instanceof MixtureOfExperts)) return null;
  const names = new Map<Parameter, string>([...trainer.model.namedParameters()].map(([n, p]) => [p, n]));
  const weights = await trainer.weights();
  const value = (p: Parameter | null | undefined): Float32Array | null => {
    const name = p ? names.get(p) : undefined;
    return name ? (weights.get(name) ?? null) : null;
  };
  const layer = net.gates;
  const E = trainer.config.experts;
  const G = net.gateCount;
  const W = layer.width;
  const table = value(layer.fields?.tables[0]?.table);
  const offsets = layer.fields?.offsets ?? [];
  const wx = value(layer.continuous?.weight);
  const bias = value(layer.continuous?.bias ?? layer.bias?.value);
  const split = trainer.data.test;
  const rows = Math.min(split.count, maxRows);
  const idx = Uint32Array.from({ length: rows }, (_, i) => i);
  const feed = featureBatch(trainer.data, trainer.layout, split, idx);
  const cat = feed.categorical as Uint32Array | undefined;
  const cont = feed.continuous as Float32Array | undefined;
  const F = offsets.length;
  const C = layer.continuousColumns;
  const sums = Array.from({ length: G }, () => new Float64Array(E));
  const logit = new Float64Array(W);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < W; j++) logit[j] = bias ? bias[j] : 0;
    if (table && cat) for (let f = 0; f < F; f++) for (let j = 0, row = (offsets[f] + cat[r * F + f]) * W; j < W; j++) logit[j] += table[row + j];
    if (wx && cont) for (let c = 0; c < C; c++) for (let j = 0, x = cont[r * C + c]; j < W; j++) logit[j] += x * wx[c * W + j];
    for (let g = 0; g < G; g++) {
      let max = -Infinity;
      for (let e = 0; e < E; e++) max = Math.max(max, logit[g * E + e]);
      let total = 0;
      for (let e = 0; e < E; e++) total += Math.exp(logit[g * E + e] - max);
      for (let e = 0; e < E; e++) sums[g][e] += Math.exp(logit[g * E + e] - max) / total;
    }
  }
  const tasks = trainer.model.tasks;
  return {
    gates: G === 1 ? ['all tasks'] : tasks.slice(0, G),
    experts: E,
    usage: sums.map((s) => Array.from(s, (v) => v / Math.max(1, rows))),
    rows,
  };
}

/** A heat map: a row per gate, a column per expert, each cell its mean weight. */
export function gateChartSvg(u: GateUsage, title: string): string {
  const cell = { w: 56, h: 34 };
  const left = 14 + Math.max(...u.gates.map((g) => g.length)) * 7.2;
  const top = 58;
  // Wide enough for the title too (about 8 px per character at 14 px bold).
  const width = Math.ceil(Math.max(left + u.experts * cell.w + 16, title.length * 8 + 24));
  const height = top + u.gates.length * cell.h + 40;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">${escapeXml(title)}</text>`,
    `<text x="${width / 2}" y="38" text-anchor="middle" font-size="11" fill="#555">mean gate weight over ${u.rows.toLocaleString('en-US')} test rows (uniform: ${(1 / u.experts).toFixed(2)})</text>`,
  ];
  for (let e = 0; e < u.experts; e++) out.push(`<text x="${(left + e * cell.w + cell.w / 2).toFixed(1)}" y="${top - 6}" text-anchor="middle" font-size="11" fill="#444">expert ${e + 1}</text>`);
  u.gates.forEach((g, i) => {
    const y = top + i * cell.h;
    out.push(`<text x="${(left - 8).toFixed(1)}" y="${y + cell.h / 2}" dy="0.32em" text-anchor="end" font-size="12">${escapeXml(g)}</text>`);
    u.usage[i].forEach((v, e) => {
      // White at 0, the page's blue at 1; the text turns white on dark cells.
      const mix = (a: number, b: number): number => Math.round(a + (b - a) * Math.min(1, v));
      const fill = `rgb(${mix(255, 31)},${mix(255, 95)},${mix(255, 168)})`;
      const x = left + e * cell.w;
      out.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${cell.w - 2}" height="${cell.h - 2}" fill="${fill}" stroke="#d4d9df"/>`);
      out.push(`<text x="${(x + cell.w / 2 - 1).toFixed(1)}" y="${y + cell.h / 2}" dy="0.32em" text-anchor="middle" font-size="12" fill="${v > 0.5 ? '#fff' : '#1b1f24'}">${v.toFixed(2)}</text>`);
    });
  });
  out.push(`<text x="${(left + (u.experts * cell.w) / 2).toFixed(1)}" y="${height - 12}" text-anchor="middle" font-size="12">experts</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
