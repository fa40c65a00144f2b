// UCI Census-Income (KDD), as the MMoE paper uses it. The official files are 42 fields separated
// by ", " without a header; DeepCTR's sample adds a leading row index and separates by ",". Both
// forms are detected per file. Continuous and categorical columns follow keras-mmoe; the three
// task columns and instance_weight are never features (the tasks' columns would leak labels).
import { Rng } from '../../random.ts';
import { DataError, lineError } from '../errors.ts';
import type { TabularData, TabularFile, TabularSettings, TaskSpec } from '../tabular.ts';
import { assemble, concatRaw, fileText, parseNumber, range, shuffledSplit, textLines, type RawTable, type SplitRows } from './table.ts';

export const CENSUS_COLUMNS = [
  'age', 'class_worker', 'det_ind_code', 'det_occ_code', 'education', 'wage_per_hour', 'hs_college', 'marital_stat',
  'major_ind_code', 'major_occ_code', 'race', 'hisp_origin', 'sex', 'union_member', 'unemp_reason', 'full_or_part_emp',
  'capital_gains', 'capital_losses', 'stock_dividends', 'tax_filer_stat', 'region_prev_res', 'state_prev_res',
  'det_hh_fam_stat', 'det_hh_summ', 'instance_weight', 'mig_chg_msa', 'mig_chg_reg', 'mig_move_reg', 'mig_same',
  'mig_prev_sunbelt', 'num_emp', 'fam_under_18', 'country_father', 'country_mother', 'country_self', 'citizenship',
  'own_or_self', 'vet_question', 'vet_benefits', 'weeks_worked', 'year', 'income_50k',
] as const;

/** keras-mmoe's numeric columns (less instance_weight); every other non-task column is categorical. */
export const CENSUS_CONTINUOUS = [
  'age', 'wage_per_hour', 'capital_gains', 'capital_losses', 'stock_dividends', 'num_emp', 'own_or_self', 'vet_benefits', 'weeks_worked', 'year',
];
const DROPPED = new Set(['instance_weight', 'income_50k', 'marital_stat', 'education']);
export const CENSUS_CATEGORICAL = CENSUS_COLUMNS.filter((c) => !DROPPED.has(c) && !CENSUS_CONTINUOUS.includes(c));

/** "College or above": a bachelor's, master's, professional, doctoral or associate degree (not "Some college but no degree"). */
const COLLEGE = ['Bachelors degree', 'Masters degree', 'Prof school degree', 'Doctorate degree', 'Associates degree'];

/** Each task: its column and whether a (trimmed) value is the positive class. */
const CENSUS_TASKS: Record<string, { column: string; positive: (v: string) => boolean }> = {
  income: { column: 'income_50k', positive: (v) => v === '50000+.' },
  marital: { column: 'marital_stat', positive: (v) => v === 'Never married' },
  education: { column: 'education', positive: (v) => COLLEGE.some((p) => v.startsWith(p)) },
};
export const CENSUS_TASK_NAMES = Object.keys(CENSUS_TASKS);
export const CENSUS_DEFAULT_TASKS = ['income', 'marital'];

const col = (name: string): number => CENSUS_COLUMNS.indexOf(name as (typeof CENSUS_COLUMNS)[number]);
const INCOME = col('income_50k');

function parseCensusFile(file: TabularFile, tasks: string[]): RawTable {
  const { lines, numbers } = textLines(fileText(file.name, file.bytes));
  // The sample form: a leading index, "," separators (values keep their leading space).
  const indexed = lines[0].split(', ').length !== CENSUS_COLUMNS.length;
  const sep = indexed ? ',' : ', ';
  const skip = indexed ? 1 : 0;
  const n = lines.length;
  const catIdx = CENSUS_CATEGORICAL.map(col);
  const contIdx = CENSUS_CONTINUOUS.map(col);
  const taskIdx = tasks.map((t) => col(CENSUS_TASKS[t].column));
  const cat = catIdx.map((): string[] => []);
  const cont = contIdx.map(() => new Float64Array(n));
  const labels = tasks.map(() => new Float32Array(n));
  for (let r = 0; r < n; r++) {
    const f = lines[r].split(sep);
    const line = numbers[r];
    if (f.length !== CENSUS_COLUMNS.length + skip) {
      throw lineError(file.name, line, `has ${f.length} fields where census-income has ${CENSUS_COLUMNS.length + skip} (column ${Math.min(f.length, CENSUS_COLUMNS.length + skip) + 1} is where it differs); pass the UCI census-income.data or .test file unchanged.`);
    }
    for (let c = 0; c < catIdx.length; c++) cat[c].push(f[catIdx[c] + skip].trim());
    for (let c = 0; c < contIdx.length; c++) cont[c][r] = parseNumber(f[contIdx[c] + skip], file.name, line, contIdx[c] + skip + 1, CENSUS_CONTINUOUS[c]);
    const income = f[INCOME + skip].trim();
    if (income !== '50000+.' && income !== '- 50000.') {
      throw lineError(file.name, line, `column ${INCOME + skip + 1} (income_50k) "${income}" is neither "- 50000." nor "50000+."; pass the UCI file unchanged.`);
    }
    for (let t = 0; t < tasks.length; t++) labels[t][r] = CENSUS_TASKS[tasks[t]].positive(f[taskIdx[t] + skip].trim()) ? 1 : 0;
  }
  return { catNames: CENSUS_CATEGORICAL, cat, contNames: CENSUS_CONTINUOUS, cont, tasks: tasks.map((name): TaskSpec => ({ name, kind: 'binary' })), labels };
}

/**
 * With a *.data* and a *.test* file: train on .data, and .test shuffled with the seed and cut 1:1
 * into validation and test (the paper's protocol). With one file: shuffled, 80/10/10.
 */
export function buildCensus(s: TabularSettings, files: readonly TabularFile[]): TabularData {
  const tasks = s.tasks.length ? s.tasks : CENSUS_DEFAULT_TASKS;
  for (const t of tasks) {
    if (!(t in CENSUS_TASKS)) throw new DataError(`census-income has no task "${t}"; choose from ${CENSUS_TASK_NAMES.join(', ')}.`);
  }
  const names = files.map((f) => f.name).join(', ');
  const rng = new Rng(s.seed);
  if (files.length === 1) {
    const raw = parseCensusFile(files[0], tasks);
    const split = shuffledSplit(raw.labels[0].length, rng);
    return assemble(raw, split, { dataset: 'census-income', source: names, standardize: true, files: names, otherColumns: [...DROPPED] });
  }
  const base = (f: TabularFile): string => f.name.split(/[\\/]/).pop() ?? f.name;
  const trainFile = files.find((f) => base(f).includes('.data'));
  const testFile = files.find((f) => base(f).includes('.test'));
  if (files.length !== 2 || !trainFile || !testFile) {
    throw new DataError(`census-income reads one file, or a *.data* and a *.test* file, not ${names}; pass --data census-income.data.gz,census-income.test.gz.`);
  }
  const trainRaw = parseCensusFile(trainFile, tasks);
  const testRaw = parseCensusFile(testFile, tasks);
  const nTrain = trainRaw.labels[0].length;
  const nTest = testRaw.labels[0].length;
  const order = rng.shuffle(range(nTrain, nTrain + nTest));
  const half = Math.floor(nTest / 2);
  const split: SplitRows = { train: range(0, nTrain), val: order.slice(0, half), test: order.slice(half) };
  return assemble(concatRaw([trainRaw, testRaw]), split, { dataset: 'census-income', source: names, standardize: true, files: names, otherColumns: [...DROPPED] });
}
