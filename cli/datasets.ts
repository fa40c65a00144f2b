// Where each dataset comes from on the command line: --data's meaning, the dataset's own flags,
// and its Node loader (files, folders, zips, the download cache). The page loads the same
// datasets from the files a person chooses (web/worker.ts).
import { resolveMovieLens } from '../src/data/movielens-node.ts';
import { loadOmniglot } from '../src/data/omniglot-node.ts';
import type { ResizeFilter } from '../src/data/omniglot-set.ts';
import type { OptionSpec, OptionValue } from '../src/experiments/options.ts';
import type { RecommenderData } from '../src/models/recommender/split.ts';
import { readTabularFiles } from '../src/data/tabular/files-node.ts';
import type { MultitaskConfig } from '../src/models/multitask/config.ts';
import { tableFor, type TabularSource } from '../src/models/multitask/source.ts';

export interface Loaded {
  data: unknown;
  /** Where it came from (--json's "data"), and a line for the log. */
  source: string;
  summary: string;
}

export interface NodeDataset {
  /** --data's help. */
  help: string;
  options: readonly OptionSpec[];
  defaults: Record<string, OptionValue>;
  /** `config`: the experiment's (a data set chosen by an option, as --dataset). */
  load(path: string | undefined, options: Record<string, OptionValue>, say: (line: string) => void, config: object): Promise<Loaded>;
}

const MOVIELENS: NodeDataset = {
  help: 'a folder with u.data (ml-100k), ratings.dat (ml-1m) or ratings.csv,\none of those files, or a MovieLens zip; without it MovieLens 100K is\ndownloaded once into the cache folder and its checksum verified',
  options: [],
  defaults: {},
  async load(path, _options, say) {
    const d = await resolveMovieLens({ data: path, log: say });
    const data: RecommenderData = { rows: d.ratings, titles: d.titles ?? null, origin: { name: 'movielens', source: d.source, fingerprint: d.fingerprint } };
    return { data, source: d.source, summary: `${d.ratings.count} ratings from ${d.source}` };
  },
};

const OMNIGLOT: NodeDataset = {
  help: 'Omniglot images: a folder with images_background/ and\nimages_evaluation/ (or their zips, or the .npz arrays), or one zip\nor npz; default: the 28×28 set embedded in shadertrain',
  options: [
    {
      key: 'filter',
      flag: 'filter',
      type: 'choice',
      choices: ['nearest', 'area', 'lanczos'],
      arg: 'F',
      help: "how 105×105 becomes 28×28: nearest (the course's, binary), area or\nlanczos (antialiased; needs --data)",
      label: 'Resize filter',
    },
  ],
  defaults: { filter: 'nearest' },
  async load(path, options, say) {
    const set = await loadOmniglot({ data: path, filter: options.filter as ResizeFilter, log: say });
    return {
      data: set,
      source: path ?? 'the embedded 28×28 set',
      summary: `${set.characters} characters × ${set.drawings} drawings, ${set.side}×${set.side} ${set.filter}${set.binary ? ' (binary)' : ''}`,
    };
  },
};

const TABULAR: NodeDataset = {
  help: 'census-income: census-income.data and .test (plain or .gz) or one of\nthem, or their folder (default: the test split embedded in shadertrain);\nali-ccp: the CSVs or PaddleRec text files (train/val/test by name);\ncsv: one or more CSV files, comma-separated; the generators need none',
  options: [],
  defaults: {},
  async load(path, _options, say, config) {
    const c = config as MultitaskConfig;
    const files = readTabularFiles(c.dataset, path);
    const source: TabularSource = { files };
    const t0 = performance.now();
    const table = tableFor(c, source);
    const ms = performance.now() - t0;
    say(`${table.source}: ${table.train.count} training, ${table.val.count} validation and ${table.test.count} test rows; ${table.categorical.length} categorical and ${table.continuous.length} continuous columns (${ms.toFixed(0)} ms)`);
    return { data: source, source: table.source, summary: `${c.dataset}: tasks ${table.tasks.map((t) => `${t.name} (${t.kind})`).join(', ')}` };
  },
};

export const DATASETS: Record<string, NodeDataset> = { movielens: MOVIELENS, omniglot: OMNIGLOT, tabular: TABULAR };
