// The multi-task trainer's host side: which rows each step takes (shuffled rows, balanced
// batches, alternating tasks), and the label and weight columns that make each task's loss the
// mean over the labels present. Pure host code.
import { describe, expect, it } from 'vitest';
import type { TabularData, TabularRows } from '../src/data/tabular.ts';
import { featureBatch, labelBatch, labelledRows, planEpoch, stepsPerEpoch } from '../src/models/multitask/batches.ts';
import { checkConfig, MULTITASK_DEFAULTS, taskSpecs, taskWeights, type MultitaskConfig } from '../src/models/multitask/config.ts';
import { layoutOf } from '../src/models/multitask/model.ts';
import { Rng } from '../src/random.ts';

const NaN32 = Number.NaN;

/** 10 rows, 2 tasks: task 0 labelled on rows 0–6, task 1 on rows 4–9. */
function rows(): TabularRows {
  const labels = new Float32Array(20);
  for (let r = 0; r < 10; r++) {
    labels[r * 2] = r <= 6 ? r % 2 : NaN32;
    labels[r * 2 + 1] = r >= 4 ? r / 10 : NaN32;
  }
  return {
    count: 10,
    categorical: Uint32Array.from({ length: 20 }, (_, i) => i % 3),
    continuous: Float32Array.from({ length: 20 }, (_, i) => i),
    labels,
  };
}

function table(): TabularData {
  const r = rows();
  return {
    dataset: 'csv',
    source: 'test',
    tasks: [
      { name: 'a', kind: 'binary' },
      { name: 'b', kind: 'regression' },
    ],
    categorical: [
      { name: 'c0', vocab: ['?', 'x', 'y'] },
      { name: 'c1', vocab: ['?', 'x', 'y'] },
    ],
    continuous: [
      { name: 'x0', mean: 0, std: 1 },
      { name: 'z', mean: 0, std: 1 },
    ],
    privateColumns: { z: 'a' },
    train: r,
    val: r,
    test: r,
  };
}

const config = (o: Partial<MultitaskConfig> = {}): MultitaskConfig => ({ ...MULTITASK_DEFAULTS, dataset: 'csv', labels: ['a', 'b'], taskKinds: ['binary', 'regression'], batchSize: 4, ...o });

describe('multi-task batches', () => {
  it('rows: every training row once per epoch, the last batch smaller', () => {
    const c = config();
    const r = rows();
    const plan = planEpoch(c, r, labelledRows(r, 2), new Rng(1));
    expect(plan.map((p) => p.rows.length)).toEqual([4, 4, 2]);
    expect([...plan.flatMap((p) => [...p.rows])].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(stepsPerEpoch(c, r, labelledRows(r, 2))).toBe(3);
  });

  it('balanced: equal rows from each task, an epoch covering the larger task once', () => {
    const c = config({ batching: 'balanced' });
    const r = rows();
    const labelled = labelledRows(r, 2);
    expect(labelled.map((l) => l.length)).toEqual([7, 6]);
    const plan = planEpoch(c, r, labelled, new Rng(2));
    expect(plan.length).toBe(Math.ceil(7 / 2));
    expect(stepsPerEpoch(c, r, labelled)).toBe(plan.length);
    for (const p of plan) {
      expect(p.rows.length).toBe(4);
      // The first half from task 0's rows, the second from task 1's.
      expect([...p.rows.subarray(0, 2)].every((i) => i <= 6)).toBe(true);
      expect([...p.rows.subarray(2)].every((i) => i >= 4)).toBe(true);
    }
    // Task 0's 7 rows each come once in its first 7 draws.
    expect(new Set(plan.flatMap((p) => [...p.rows.subarray(0, 2)]).slice(0, 7)).size).toBe(7);
  });

  it('alternating: full batches of one task per step, round-robin, partial batches dropped', () => {
    const c = config({ training: 'alternating' });
    const r = rows();
    const labelled = labelledRows(r, 2);
    const plan = planEpoch(c, r, labelled, new Rng(3));
    expect(plan.map((p) => p.task)).toEqual([0, 1]);
    expect(plan.every((p) => p.rows.length === 4)).toBe(true);
    expect([...plan[0].rows].every((i) => i <= 6)).toBe(true);
    expect([...plan[1].rows].every((i) => i >= 4)).toBe(true);
    expect(stepsPerEpoch(c, r, labelled)).toBe(2);
  });

  it('labels: a missing label is fed 0 with weight 0; the others weigh 1/(labels present)', () => {
    const c = config();
    const b = labelBatch(c, rows(), [3, 4, 8]);
    expect(Array.from(b['label.a'])).toEqual([1, 0, 0]);
    expect(Array.from(b['weight.a'])).toEqual([0.5, 0.5, 0]);
    expect(Array.from(b['label.b'])).toEqual([0, Math.fround(0.4), Math.fround(0.8)]);
    expect(Array.from(b['weight.b'])).toEqual([0, 0.5, 0.5]);
  });

  it('esmm: click, and click AND conversion over every impression', () => {
    const c: MultitaskConfig = { ...MULTITASK_DEFAULTS, model: 'esmm', dataset: 'esmm-synthetic' };
    const r: TabularRows = { count: 4, categorical: new Uint32Array(4), continuous: new Float32Array(0), labels: Float32Array.from([0, NaN32, 1, 0, 1, 1, 0, NaN32]) };
    const b = labelBatch(c, r, [0, 1, 2, 3]);
    expect(Array.from(b['label.click'])).toEqual([0, 1, 1, 0]);
    expect(Array.from(b['label.ctcvr'])).toEqual([0, 0, 1, 0]);
    expect(Array.from(b['weight.ctcvr'])).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('features: the aux model feeds the private columns apart; padding repeats the first row', () => {
    const data = table();
    const aux = layoutOf({ ...config(), model: 'aux' }, data);
    expect([aux.shared, aux.private]).toEqual([[0], [1]]);
    const f = featureBatch(data, aux, data.train, [2, 5], 3);
    expect(Array.from(f.continuous)).toEqual([4, 10, 4]);
    expect(Array.from(f.private)).toEqual([5, 11, 5]);
    expect(Array.from(f.categorical)).toEqual([1, 2, 1, 2, 1, 2]);
    const plain = layoutOf(config(), data);
    expect(plain.private).toEqual([]);
    expect(Array.from(featureBatch(data, plain, data.train, [1]).continuous)).toEqual([2, 3]);
  });
});

describe('multi-task config', () => {
  it('knows each data set\'s tasks and the default weights', () => {
    expect(taskSpecs(MULTITASK_DEFAULTS).map((t) => t.name)).toEqual(['income', 'marital']);
    expect(taskSpecs({ ...MULTITASK_DEFAULTS, tasks: ['education'] })).toEqual([{ name: 'education', kind: 'binary' }]);
    expect(taskWeights({ ...MULTITASK_DEFAULTS, model: 'aux', dataset: 'aux-synthetic' })).toEqual([0.9, 0.1]);
    expect(taskWeights(MULTITASK_DEFAULTS)).toEqual([1, 1]);
  });

  it('names the flag of every inconsistent setting', () => {
    const bad: [Partial<MultitaskConfig>, RegExp][] = [
      [{ tasks: ['age'] }, /--tasks: census-income has no task "age"; choose from income, marital, education/],
      [{ dataset: 'mmoe-synthetic', tasks: ['income'] }, /--tasks chooses census-income's tasks; mmoe-synthetic has its own \(y1, y2\)/],
      [{ dataset: 'csv' }, /--dataset csv needs --labels/],
      [{ dataset: 'csv', labels: ['a'], taskKinds: ['binary', 'binary'] }, /--task_kinds gives 2 kinds for 1 --labels/],
      [{ labels: ['a'] }, /--labels is for --dataset csv/],
      [{ taskWeights: [1] }, /--task_weights gives 1 weights for 2 tasks \(income, marital\)/],
      [{ taskWeights: [0, 0] }, /--task_weights are all 0/],
      [{ model: 'esmm' }, /--model esmm needs two binary tasks, click then conversion/],
      [{ model: 'aux' }, /--model aux needs a main task with a private feature/],
      [{ bottomUnits: 0 }, /--bottom_units 0 \(a linear model\) is only for --model single/],
      [{ training: 'alternating', lossWeighting: 'uncertainty' }, /--loss_weighting uncertainty weighs the tasks of one joint step/],
      [{ rho: 1.5 }, /--rho must be from -1 to 1/],
      [{ dropout: 1 }, /--dropout must be/],
    ];
    for (const [o, re] of bad) expect(() => checkConfig({ ...MULTITASK_DEFAULTS, ...o }), JSON.stringify(o)).toThrow(re);
    expect(() => checkConfig(MULTITASK_DEFAULTS)).not.toThrow();
  });
});
