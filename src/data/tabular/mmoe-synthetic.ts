// The MMoE paper's synthetic pair of regression tasks (Ma et al., KDD 2018, section 3.2): two
// orthogonal unit vectors u1, u2; w1 = c·u1, w2 = c·(rho·u1 + sqrt(1−rho²)·u2); x ~ N(0, I_d);
// y_k = w_kᵀx + Σ_i sin(alpha_i·w_kᵀx + beta_i) + eps, eps ~ N(0, 0.01) (sd 0.1), alpha, beta ~ N(0, 1).
// Labels stay raw (the paper's losses are on raw y); features are already standard normal.
import { Rng } from '../../random.ts';
import type { TabularData, TabularSettings } from '../tabular.ts';
import { assemble, range, type RawTable } from './table.ts';

export const MMOE_DEFAULTS = { c: 1, m: 10, d: 100, rows: 12000 };

export function buildMmoeSynthetic(s: TabularSettings): TabularData {
  const d = s.d || MMOE_DEFAULTS.d;
  const m = s.m || MMOE_DEFAULTS.m;
  const c = s.c || MMOE_DEFAULTS.c;
  const n = s.rows || MMOE_DEFAULTS.rows;
  const rho = s.rho;
  const rng = new Rng(s.seed);
  const u1 = unit(Array.from({ length: d }, () => rng.normal()));
  const v = Array.from({ length: d }, () => rng.normal());
  const proj = dot(v, u1);
  const u2 = unit(v.map((x, i) => x - proj * u1[i]));
  const w1 = u1.map((x) => c * x);
  const w2 = u1.map((x, i) => c * (rho * x + Math.sqrt(Math.max(0, 1 - rho * rho)) * u2[i]));
  const alpha = Array.from({ length: m }, () => rng.normal());
  const beta = Array.from({ length: m }, () => rng.normal());
  const cont = Array.from({ length: d }, () => new Float64Array(n));
  const y1 = new Float32Array(n);
  const y2 = new Float32Array(n);
  const x = new Float64Array(d);
  const target = (w: number[]): number => {
    const wx = dot(w, x);
    let y = wx;
    for (let i = 0; i < m; i++) y += Math.sin(alpha[i] * wx + beta[i]);
    return y;
  };
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) cont[j][r] = x[j] = rng.normal();
    y1[r] = target(w1) + 0.1 * rng.normal();
    y2[r] = target(w2) + 0.1 * rng.normal();
  }
  const raw: RawTable = {
    catNames: [], cat: [],
    contNames: Array.from({ length: d }, (_, j) => `x${j + 1}`), cont,
    tasks: [{ name: 'y1', kind: 'regression' }, { name: 'y2', kind: 'regression' }],
    labels: [y1, y2],
  };
  // Rows are drawn independently, so consecutive blocks are already random splits: 5/6, 1/12, 1/12.
  const nVal = Math.round(n / 12);
  const nTrain = n - 2 * nVal;
  const source = `mmoe-synthetic(d=${d}, rho=${rho}, c=${c}, m=${m}, rows=${n}, seed=${s.seed})`;
  return assemble(raw, { train: range(0, nTrain), val: range(nTrain, nTrain + nVal), test: range(nTrain + nVal, n) }, { dataset: 'mmoe-synthetic', source, standardize: false, files: source });
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function unit(v: number[]): number[] {
  const norm = Math.sqrt(dot(v, v));
  return v.map((x) => x / norm);
}
