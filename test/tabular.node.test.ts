// The multi-task data sets from files in Node: the embedded census-income test split, the shared
// samples (census, Ali-CCP in both forms), and --data's folders and errors.
import { describe, expect, it } from 'vitest';
import { buildTabular } from '../src/data/tabular/build.ts';
import { readTabularFiles } from '../src/data/tabular/files-node.ts';
import type { TabularData, TabularSettings } from '../src/data/tabular.ts';

const base: TabularSettings = { dataset: 'census-income', tasks: [], labels: [], taskKinds: [], categorical: [], continuous: [], seed: 0, rho: 0.5, c: 0, m: 0, d: 0, rows: 0, auxRows: 0, mainRows: 0 };
const SHARED = '/work/shared/data';
const positives = (d: TabularData, t: number): number => {
  let n = 0;
  for (const sp of [d.train, d.val, d.test]) for (let i = 0; i < sp.count; i++) n += sp.labels[i * d.tasks.length + t];
  return n;
};

describe('census-income files', () => {
  it('reads the embedded test split: 99,762 rows, 6,186 over 50K, 43,143 never married', () => {
    const files = readTabularFiles('census-income', undefined);
    expect(files).toHaveLength(1);
    const d = buildTabular({ ...base, tasks: ['income', 'marital', 'education'] }, files);
    expect(d.train.count + d.val.count + d.test.count).toBe(99762);
    expect([d.train.count, d.val.count, d.test.count]).toEqual([79810, 9976, 9976]);
    expect(positives(d, 0)).toBe(6186);
    expect(positives(d, 1)).toBe(43143);
    expect(positives(d, 2)).toBeGreaterThan(10000);
    for (const c of d.continuous) expect(Number.isFinite(c.mean) && c.std > 0).toBe(true);
  });

  it('reads the DeepCTR sample form', () => {
    const d = buildTabular(base, readTabularFiles('census-income', `${SHARED}/census-income-kdd/census-income.sample.csv`));
    expect(d.train.count + d.val.count + d.test.count).toBe(200);
    expect(positives(d, 0)).toBe(12);
  });
});

describe('ali-ccp files', () => {
  it('reads the torch-rechub CSVs from a folder list and the PaddleRec lines', () => {
    const dir = `${SHARED}/ali-ccp-sample`;
    const csv = buildTabular({ ...base, dataset: 'ali-ccp' }, readTabularFiles('ali-ccp', ['train', 'val', 'test'].map((s) => `${dir}/ali_ccp_${s}_sample.csv`).join(',')));
    expect([csv.train.count, csv.val.count, csv.test.count]).toEqual([100, 50, 50]);
    expect([csv.categorical.length, csv.continuous.length]).toEqual([23, 8]);
    expect(positives({ ...csv, val: { ...csv.val, count: 0 }, test: { ...csv.test, count: 0 } }, 0)).toBe(7);
    const txt = buildTabular({ ...base, dataset: 'ali-ccp' }, readTabularFiles('ali-ccp', `${dir}/paddlerec_esmm_train_small.txt,${dir}/paddlerec_esmm_test_small.txt`));
    expect([txt.train.count, txt.val.count, txt.test.count]).toEqual([10, 5, 5]);
    expect(txt.categorical).toHaveLength(22);
  });
});

describe('readTabularFiles', () => {
  it('needs no files for generators and names --data when a path is wrong', () => {
    expect(readTabularFiles('mmoe-synthetic', undefined)).toEqual([]);
    expect(() => readTabularFiles('csv', undefined)).toThrow(/needs --data/);
    expect(() => readTabularFiles('csv', '/no/such.csv')).toThrow(/^--data \/no\/such\.csv does not exist/);
    expect(() => readTabularFiles('census-income', `${SHARED}/ali-ccp-sample`)).toThrow(/holds no census-income files/);
  });
});
