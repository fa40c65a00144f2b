// The multi-task tables from bytes (browser-safe): each data set's reading, the splits'
// statistics, the generators' determinism and structure, and every bad-input error.
import { gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { buildTabular } from '../src/data/tabular/build.ts';
import type { TabularData, TabularFile, TabularSettings } from '../src/data/tabular.ts';

const base: TabularSettings = { dataset: 'csv', tasks: [], labels: [], taskKinds: [], categorical: [], continuous: [], seed: 0, rho: 0.5, c: 0, m: 0, d: 0, rows: 0, auxRows: 0, mainRows: 0 };
const file = (name: string, text: string): TabularFile => ({ name, bytes: new TextEncoder().encode(text) });
const labelsOf = (d: TabularData, split: 'train' | 'val' | 'test', t: number): number[] => {
  const nt = d.tasks.length;
  return Array.from({ length: d[split].count }, (_, i) => d[split].labels[i * nt + t]);
};

// One census row in the official form: 42 fields, ", " separated.
const censusRow = (age: number, edu: string, marital: string, income: string, worker = 'Private'): string =>
  [age, worker, 0, 0, edu, 0, 'Not in universe', marital, 'x', 'x', 'White', 'All other', 'Female', 'x', 'x', 'x', 0, 0, 0, 'x', 'x', 'x', 'x', 'x', 1000.5, '?', '?', '?', 'x', '?', 1, 'x', 'US', 'US', 'US', 'Native', 0, 'x', 2, 52, 95, income].join(', ');

describe('census-income', () => {
  const rows = Array.from({ length: 20 }, (_, i) => censusRow(20 + i, i % 2 ? 'Bachelors degree(BA AB BS)' : 'High school graduate', i % 3 ? 'Never married' : 'Divorced', i % 4 ? '- 50000.' : '50000+.', i < 10 ? 'Private' : `W${i}`));
  const text = rows.join('\n') + '\n';

  it('reads plain and gzip alike, the three tasks, and drops label columns from the features', () => {
    const s = { ...base, dataset: 'census-income' as const, tasks: ['income', 'marital', 'education'] };
    const plain = buildTabular(s, [file('c.test', text)]);
    const gz = buildTabular(s, [{ name: 'c.test.gz', bytes: gzipSync(new TextEncoder().encode(text)) }]);
    expect(gz).toEqual({ ...plain, source: 'c.test.gz' });
    expect(plain.train.count + plain.val.count + plain.test.count).toBe(20);
    expect([plain.train.count, plain.val.count, plain.test.count]).toEqual([16, 2, 2]);
    const names = [...plain.categorical.map((c) => c.name), ...plain.continuous.map((c) => c.name)];
    for (const gone of ['income_50k', 'marital_stat', 'education', 'instance_weight']) expect(names).not.toContain(gone);
    expect(plain.continuous).toHaveLength(10);
    expect(plain.categorical).toHaveLength(28);
    const sum = (t: number): number => ['train', 'val', 'test'].reduce((s2, sp) => s2 + labelsOf(plain, sp as 'train', t).reduce((a, b) => a + b, 0), 0);
    expect([sum(0), sum(1), sum(2)]).toEqual([5, 13, 10]);
  });

  it('standardizes with the training rows only and maps values unseen in training to 0', () => {
    const d = buildTabular({ ...base, dataset: 'census-income' }, [file('a.data', rows.slice(0, 10).join('\n')), file('a.test', rows.slice(10).join('\n'))]);
    expect([d.train.count, d.val.count, d.test.count]).toEqual([10, 5, 5]);
    const age = d.continuous.find((c) => c.name === 'age')!;
    expect(age.mean).toBeCloseTo(24.5, 10); // ages 20..29 of the .data rows
    expect(age.std).toBeCloseTo(Math.sqrt(8.25), 10);
    const w = d.categorical.findIndex((c) => c.name === 'class_worker');
    expect(d.categorical[w].vocab).toEqual(['<unknown>', 'Private']);
    const nc = d.categorical.length;
    for (const split of [d.val, d.test]) for (let i = 0; i < split.count; i++) expect(split.categorical[i * nc + w]).toBe(0);
    const a = d.continuous.findIndex((c) => c.name === 'age');
    let mean = 0;
    for (let i = 0; i < d.train.count; i++) mean += d.train.continuous[i * d.continuous.length + a] / d.train.count;
    expect(mean).toBeCloseTo(0, 6);
  });

  it('reads the sample form (a leading index, "," separators)', () => {
    const sample = rows.map((r, i) => `${i},` + r.split(', ').map((v, k) => (typeof v === 'string' && k > 0 && isNaN(Number(v)) ? ' ' + v : v)).join(',')).join('\n');
    const d = buildTabular({ ...base, dataset: 'census-income' }, [file('s.csv', sample)]);
    const p = buildTabular({ ...base, dataset: 'census-income' }, [file('s.csv', text)]);
    expect(d.train.labels).toEqual(p.train.labels);
    expect(d.train.categorical).toEqual(p.train.categorical);
  });

  it('names the file, line and column of bad input', () => {
    const s = { ...base, dataset: 'census-income' as const };
    const bad = [...rows];
    bad[3] = bad[3].replace('- 50000.', 'maybe');
    expect(() => buildTabular(s, [file('c.test', bad.join('\n'))])).toThrow(/^c\.test line 4: column 42 \(income_50k\) "maybe"/);
    bad[3] = rows[3].replace(/^23/, 'old');
    expect(() => buildTabular(s, [file('c.test', bad.join('\n'))])).toThrow(/^c\.test line 4: column 1 \(age\) "old" is not a number/);
    bad[3] = rows[3].split(', ').slice(0, 40).join(', ');
    expect(() => buildTabular(s, [file('c.test', bad.join('\n'))])).toThrow(/^c\.test line 4: has 40 fields .* \(column 41 /);
    expect(() => buildTabular(s, [file('c.test', '\n\n')])).toThrow(/^c\.test is empty/);
    expect(() => buildTabular({ ...s, tasks: ['age'] }, [file('c.test', text)])).toThrow(/no task "age"/);
    expect(() => buildTabular({ ...base, dataset: 'nope' as 'csv' }, [])).toThrow(/^Unknown data set nope/);
  });
});

describe('csv', () => {
  it('unions files with missing labels, infers column kinds, and splits 80/10/10', () => {
    const a = file('a.csv', 'x,color,main\n' + Array.from({ length: 10 }, (_, i) => `${i},${i % 2 ? 'red' : 'blue'},${i % 3 === 0 ? -1 : i % 2}`).join('\n'));
    const b = file('b.csv', 'color,x,aux\n' + Array.from({ length: 10 }, (_, i) => `green,${i / 2},${i * 1.5}`).join('\n'));
    const d = buildTabular({ ...base, labels: ['main', 'aux'], taskKinds: ['binary', 'regression'] }, [a, b]);
    expect(d.tasks).toEqual([{ name: 'main', kind: 'binary' }, { name: 'aux', kind: 'regression' }]);
    expect(d.continuous.map((c) => c.name)).toEqual(['x']);
    expect(d.categorical.map((c) => c.name)).toEqual(['color']);
    expect([d.train.count, d.val.count, d.test.count]).toEqual([16, 2, 2]);
    const all = (t: number): number[] => [...labelsOf(d, 'train', t), ...labelsOf(d, 'val', t), ...labelsOf(d, 'test', t)];
    expect(all(0).filter((v) => Number.isNaN(v))).toHaveLength(10 + 4);
    expect(all(1).filter((v) => Number.isNaN(v))).toHaveLength(10);
    expect(all(1).filter((v) => !Number.isNaN(v)).sort((p, q) => p - q)).toEqual(Array.from({ length: 10 }, (_, i) => i * 1.5));
  });

  it('names the file, line and column of bad input', () => {
    const s = { ...base, labels: ['y'], categorical: ['c'], continuous: ['x'] };
    expect(() => buildTabular(s, [file('d.csv', 'x,c,y\n1,a,1\n2,b,2\n')])).toThrow(/^d\.csv line 3: column 3 \(y\) label "2" is not 0 or 1/);
    expect(() => buildTabular(s, [file('d.csv', 'x,c,y\n1,a,1\nz,b,0\n')])).toThrow(/^d\.csv line 3: column 1 \(x\) "z" is not a number/);
    expect(() => buildTabular(s, [file('d.csv', 'x,y\n1,1\n')])).toThrow(/^d\.csv line 1: column c is missing/);
    expect(() => buildTabular(s, [file('d.csv', 'x,c,y\n1,a,1\n2,b\n')])).toThrow(/^d\.csv line 3: has 2 fields/);
    expect(() => buildTabular(s, [file('d.csv', 'x,c,y\n1,a,-1\n2,b,\n')])).toThrow(/no training row has a label for task y/);
    expect(() => buildTabular(s, [file('d.csv', '')])).toThrow(/^d\.csv is empty/);
    expect(() => buildTabular({ ...s, labels: [] }, [file('d.csv', 'x\n1\n')])).toThrow(/--labels/);
  });
});

describe('generators', () => {
  const corr = (d: TabularData): number => {
    const a = labelsOf(d, 'train', 0);
    const b = labelsOf(d, 'train', 1);
    const ma = a.reduce((s, v) => s + v, 0) / a.length;
    const mb = b.reduce((s, v) => s + v, 0) / b.length;
    let ab = 0, aa = 0, bb = 0;
    for (let i = 0; i < a.length; i++) (ab += (a[i] - ma) * (b[i] - mb)), (aa += (a[i] - ma) ** 2), (bb += (b[i] - mb) ** 2);
    return ab / Math.sqrt(aa * bb);
  };

  it('mmoe-synthetic: deterministic for a seed, 10k/1k/1k, label correlation rising with rho', () => {
    const s = { ...base, dataset: 'mmoe-synthetic' as const, d: 20, rows: 3000 };
    const a = buildTabular({ ...s, rho: 0.5 }, []);
    expect(buildTabular({ ...s, rho: 0.5 }, [])).toEqual(a);
    expect(buildTabular({ ...s, rho: 0.5, seed: 1 }, []).train.labels).not.toEqual(a.train.labels);
    const c = [0, 0.5, 0.9, 1].map((rho) => corr(buildTabular({ ...s, rho }, [])));
    for (let i = 1; i < c.length; i++) expect(c[i]).toBeGreaterThan(c[i - 1]);
    expect(c[3]).toBeGreaterThan(0.98);
    const full = buildTabular({ ...base, dataset: 'mmoe-synthetic', d: 4 }, []);
    expect([full.train.count, full.val.count, full.test.count]).toEqual([10000, 1000, 1000]);
  });

  it('aux-synthetic: the truth reproduces the labels, z is private to main', () => {
    const d = buildTabular({ ...base, dataset: 'aux-synthetic', auxRows: 2000, mainRows: 30 }, []);
    expect(d.privateColumns).toEqual({ z: 'main' });
    expect([d.train.count, d.val.count, d.test.count]).toEqual([2030, 3000, 3000]);
    const { B1, b3, b4, b0 } = d.truth!;
    const nf = d.continuous.length;
    let se = 0, n = 0, ll = 0, m = 0;
    for (let i = 0; i < d.val.count; i++) {
      const x = d.val.continuous.subarray(i * nf, i * nf + nf);
      const xb = B1.reduce((s, w, j) => s + w * x[j], 0);
      const [main, aux] = [d.val.labels[i * 2], d.val.labels[i * 2 + 1]];
      if (!Number.isNaN(aux)) (se += (aux - xb) ** 2), n++;
      if (!Number.isNaN(main)) {
        const p = 1 / (1 + Math.exp(-(b4[0] * xb + b3[0] * x[6] + b0[0])));
        (ll -= main ? Math.log(p) : Math.log(1 - p)), m++;
      }
      expect(Number.isNaN(main) !== Number.isNaN(aux)).toBe(true);
    }
    expect(se / n).toBeCloseTo(0.25, 1); // the auxiliary noise variance
    expect(ll / m).toBeLessThan(0.5); // well below chance's 0.693: the main task is learnable
  });

  it('esmm-synthetic: CTR and CVR in range, conversion post-click, hidden counterfactuals, selection bias', () => {
    const d = buildTabular({ ...base, dataset: 'esmm-synthetic', rows: 40000 }, []);
    expect(buildTabular({ ...base, dataset: 'esmm-synthetic', rows: 40000 }, [])).toEqual(d);
    const click = labelsOf(d, 'test', 0);
    const conv = labelsOf(d, 'test', 1);
    const hidden = Array.from(d.hidden!.conversion.test);
    const ctr = click.reduce((s, v) => s + v, 0) / click.length;
    expect(ctr).toBeGreaterThan(0.05);
    expect(ctr).toBeLessThan(0.2);
    const clicked = click.flatMap((c, i) => (c ? [i] : []));
    for (let i = 0; i < click.length; i++) expect(Number.isNaN(conv[i])).toBe(click[i] === 0);
    for (const i of clicked) expect(conv[i]).toBe(hidden[i]);
    const cvrClicked = clicked.reduce((s, i) => s + hidden[i], 0) / clicked.length;
    const cvrAll = hidden.reduce((s, v) => s + v, 0) / hidden.length;
    expect(cvrClicked).toBeGreaterThan(0.1);
    expect(cvrClicked).toBeLessThan(0.35);
    expect(Math.abs(cvrClicked - cvrAll)).toBeGreaterThan(0.03); // clicked impressions are not a fair sample
  });
});

describe('ali-ccp', () => {
  it('reads both forms, conversion NaN without a click, and rejects a conversion without a click', () => {
    const csv = 'click,purchase,101,121,D1\n' + ['1,1,a,b,0.5', '0,0,a,c,0.1', '1,0,b,b,0.2', '0,0,c,c,0.3'].join('\n');
    const d = buildTabular({ ...base, dataset: 'ali-ccp' }, [file('train.csv', csv), file('test.csv', csv)]);
    expect(d.categorical.map((c) => c.name)).toEqual(['101', '121']);
    expect(d.continuous.map((c) => c.name)).toEqual(['D1']);
    expect(labelsOf(d, 'train', 1)).toEqual([1, NaN, 0, NaN]);
    const paddle = ['1,1,1,101:5,101:6,205:7', '2,0,0,205:8', '3,1,0,101:9,301:1'].join('\n');
    const p = buildTabular({ ...base, dataset: 'ali-ccp' }, [file('train.txt', paddle), file('test.txt', paddle)]);
    expect(p.categorical.map((c) => c.name)).toEqual(['101', '205', '301']);
    expect(p.categorical[0].vocab).toEqual(['<unknown>', '5', '9']);
    expect(Array.from(p.train.categorical.subarray(3, 6))).toEqual([0, 2, 0]); // row 2: 101 and 301 absent
    expect(labelsOf(p, 'train', 1)).toEqual([1, NaN, 0]);
    expect(() => buildTabular({ ...base, dataset: 'ali-ccp' }, [file('x.txt', '1,0,1,101:5\n')])).toThrow(/^x\.txt line 1: column 3 marks a conversion without a click/);
    expect(() => buildTabular({ ...base, dataset: 'ali-ccp' }, [file('a.txt', paddle), file('b.txt', paddle)])).toThrow(/named train and test/);
  });
});
