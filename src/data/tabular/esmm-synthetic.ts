// Impressions with a known click-then-convert structure, so that sample selection bias shows:
// fields user (50 values), item (100), position (5) and continuous x1..x4 ~ N(0, 1).
//   f_ctr = -2.4 + u_ctr[user] + i_ctr[item] - 0.3·position + 0.8·x1 + 0.4·x2 + 0.5·h
//   f_cvr = -1.1 + u_cvr[user] + i_cvr[item] - 0.8·x1 + 0.6·x3 + 0.5·x1·x3 + 0.5·h
// with u_ctr, i_ctr ~ N(0, 0.5²), u_cvr = 0.5·u_ctr + N(0, 0.4²), i_cvr = -0.6·i_ctr + N(0, 0.4²)
// (items clicked more convert less), and an unobserved intent h ~ N(0, 1) raising both. Clicks
// concentrate where x1 and i_ctr are high, where conversion is lowest, and select high h: a CVR
// model fitted to clicked impressions only is biased for all impressions. CTR is about 10%, CVR
// of clicked impressions about 25%. conversion is NaN where click = 0 (it is post-click);
// hidden.conversion holds every val/test impression's conversion had it been clicked.
import { Rng } from '../../random.ts';
import type { TabularData, TabularSettings } from '../tabular.ts';
import { assemble, shuffledSplit, type RawTable } from './table.ts';

export const ESMM_DEFAULTS = { rows: 100000, users: 50, items: 100, positions: 5 };

export function buildEsmmSynthetic(s: TabularSettings): TabularData {
  const n = s.rows || ESMM_DEFAULTS.rows;
  const { users, items, positions } = ESMM_DEFAULTS;
  const rng = new Rng(s.seed);
  const uCtr = Array.from({ length: users }, () => 0.5 * rng.normal());
  const iCtr = Array.from({ length: items }, () => 0.5 * rng.normal());
  const uCvr = uCtr.map((e) => 0.5 * e + 0.4 * rng.normal());
  const iCvr = iCtr.map((e) => -0.6 * e + 0.4 * rng.normal());
  const cat: string[][] = [[], [], []];
  const cont = Array.from({ length: 4 }, () => new Float64Array(n));
  const click = new Float32Array(n);
  const conversion = new Float32Array(n);
  const counterfactual = new Float32Array(n);
  const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
  for (let r = 0; r < n; r++) {
    const u = rng.int(users);
    const i = rng.int(items);
    const p = rng.int(positions);
    cat[0].push(`u${u}`);
    cat[1].push(`i${i}`);
    cat[2].push(`p${p}`);
    const x = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
    for (let j = 0; j < 4; j++) cont[j][r] = x[j];
    const h = rng.normal();
    const fCtr = -2.4 + uCtr[u] + iCtr[i] - 0.3 * p + 0.8 * x[0] + 0.4 * x[1] + 0.5 * h;
    const fCvr = -1.1 + uCvr[u] + iCvr[i] - 0.8 * x[0] + 0.6 * x[2] + 0.5 * x[0] * x[2] + 0.5 * h;
    click[r] = rng.uniform() < sigmoid(fCtr) ? 1 : 0;
    counterfactual[r] = rng.uniform() < sigmoid(fCvr) ? 1 : 0;
    conversion[r] = click[r] ? counterfactual[r] : NaN;
  }
  const raw: RawTable = {
    catNames: ['user', 'item', 'position'], cat,
    contNames: ['x1', 'x2', 'x3', 'x4'], cont,
    tasks: [{ name: 'click', kind: 'binary' }, { name: 'conversion', kind: 'binary' }],
    labels: [click, conversion],
  };
  const split = shuffledSplit(n, rng);
  const source = `esmm-synthetic(rows=${n}, seed=${s.seed})`;
  const data = assemble(raw, split, { dataset: 'esmm-synthetic', source, standardize: false, files: source });
  const pick = (idx: Int32Array): Float32Array => Float32Array.from(idx, (r) => counterfactual[r]);
  return { ...data, hidden: { conversion: { val: pick(split.val), test: pick(split.test) } } };
}
