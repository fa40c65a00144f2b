// The auxiliary-task structure: shared features x1..x6, a feature z private to the main task.
// Auxiliary rows: aux = x·B1 + N(0, 0.5²), main missing. Main rows: main ~ Bernoulli(sigmoid(
// b4·(x·B1) + b3·z + b0)), aux missing. B1 ~ N(0, 1/6) per entry (so x·B1 has variance about 1),
// b4 in [2, 3], |b3| in [0.75, 1.25] with a random sign, b0 in [-0.25, 0.25]: the main task is
// clearly learnable (7 weights) but 30–60 rows leave its 6 x-weights noisy, while the auxiliary
// rows pin down B1's direction. Validation and test: 2000 main rows and 1000 auxiliary rows each.
import { Rng } from '../../random.ts';
import type { TabularData, TabularSettings } from '../tabular.ts';
import { assemble, range, type RawTable } from './table.ts';

export const AUX_DEFAULTS = { auxRows: 20000, mainRows: 60, evalMainRows: 2000, evalAuxRows: 1000, auxNoise: 0.5 };
const X = 6;

export function buildAuxSynthetic(s: TabularSettings): TabularData {
  const auxRows = s.auxRows || AUX_DEFAULTS.auxRows;
  const mainRows = s.mainRows || AUX_DEFAULTS.mainRows;
  const rng = new Rng(s.seed);
  const B1 = Array.from({ length: X }, () => rng.normal() / Math.sqrt(X));
  const b4 = 2 + rng.uniform();
  const b3 = (rng.uniform() < 0.5 ? -1 : 1) * (0.75 + 0.5 * rng.uniform());
  const b0 = 0.5 * (rng.uniform() - 0.5);
  const { evalMainRows, evalAuxRows } = AUX_DEFAULTS;
  // Blocks in row order: train aux, train main, then per split (val, test) main, aux.
  const blocks: [kind: 'aux' | 'main', count: number][] = [
    ['aux', auxRows], ['main', mainRows],
    ['main', evalMainRows], ['aux', evalAuxRows],
    ['main', evalMainRows], ['aux', evalAuxRows],
  ];
  const n = blocks.reduce((t, [, k]) => t + k, 0);
  const cont = Array.from({ length: X + 1 }, () => new Float64Array(n));
  const main = new Float32Array(n).fill(NaN);
  const aux = new Float32Array(n).fill(NaN);
  let r = 0;
  for (const [kind, count] of blocks) {
    for (let k = 0; k < count; k++, r++) {
      let xb = 0;
      for (let j = 0; j < X; j++) xb += (cont[j][r] = rng.normal()) * B1[j];
      const z = (cont[X][r] = rng.normal());
      if (kind === 'aux') aux[r] = xb + AUX_DEFAULTS.auxNoise * rng.normal();
      else main[r] = rng.uniform() < 1 / (1 + Math.exp(-(b4 * xb + b3 * z + b0))) ? 1 : 0;
    }
  }
  const raw: RawTable = {
    catNames: [], cat: [],
    contNames: [...Array.from({ length: X }, (_, j) => `x${j + 1}`), 'z'], cont,
    tasks: [{ name: 'main', kind: 'binary' }, { name: 'aux', kind: 'regression' }],
    labels: [main, aux],
  };
  const nTrain = auxRows + mainRows;
  const nEval = evalMainRows + evalAuxRows;
  const source = `aux-synthetic(aux_rows=${auxRows}, main_rows=${mainRows}, seed=${s.seed})`;
  const data = assemble(
    raw,
    { train: range(0, nTrain), val: range(nTrain, nTrain + nEval), test: range(nTrain + nEval, n) },
    { dataset: 'aux-synthetic', source, standardize: false, privateColumns: { z: 'main' }, files: source },
  );
  return { ...data, truth: { B1, b3: [b3], b4: [b4], b0: [b0] } };
}
