// The recommender's sizes against the data and the adapter, before any GPU work: a batch larger
// than the training ratings, and the buffers its config and ids call for (the tables, the
// evaluation's user × item scores, the regression MLP's widest layer), each named by the flag or
// the data line that makes it too big.
import { ConfigError } from '../../experiments/options.ts';
import { beyond, bufferCap, ELEMENT_BYTES as F, thousands, type BufferLimits } from '../../experiments/limits.ts';
import { DataError } from '../../data/errors.ts';
import { RECOMMENDER_DEFAULTS, type RecommenderConfig } from './config.ts';
import { tableSizes, type RecommenderData } from './split.ts';

/** Ratings in the training split (the course's int((1 - test_fraction) · N)). */
function trainCount(c: RecommenderConfig, count: number): number {
  return Math.floor((1 - c.testFraction) * count);
}

/** A batch is cut from the training ratings, so one larger than all of them is a mistake (--batch_size 1e9). */
export function checkRecommenderData(c: RecommenderConfig, data: RecommenderData): void {
  const train = trainCount(c, data.rows.count);
  if (c.batchSize > train) {
    throw new ConfigError(`--batch_size ${c.batchSize} is more than the ${thousands(train)} training ratings; use --batch_size ${train} or less`);
  }
}

/** "user id 16777215 (line 7 of u.data)": the first rating with the largest id, by the file's own line numbers where known. */
function largestId(data: RecommenderData, which: 'user' | 'item'): string {
  const ids = which === 'user' ? data.rows.users : data.rows.items;
  let at = 0;
  for (let i = 1; i < data.rows.count; i++) if (ids[i] > ids[at]) at = i;
  // Ratings are parsed in file order with blank lines only at the end; ratings.csv has a header line.
  const format = (data.rows as { format?: string }).format;
  const where = data.origin && format ? `line ${thousands(at + (format === 'csv' ? 2 : 1))} of ${data.origin.source}` : `rating ${thousands(at + 1)}`;
  return `${which} id ${ids[at]} (${where})`;
}

/** Every buffer the run would make, against the adapter's limit; the first too big is named by its cause. */
export function checkRecommenderLimits(c: RecommenderConfig, data: RecommenderData, limits: BufferLimits): void {
  const cap = bufferCap(limits);
  const { users, items } = tableSizes(data.rows);
  const dim = c.embeddingDim;
  // The tables (and their Adam moments): one row per id, embedding_dim wide; the longer one first, as it limits the width.
  const tables: ['user' | 'item', number][] = users >= items ? [['user', users], ['item', items]] : [['item', items], ['user', users]];
  for (const [which, rows] of tables) {
    const bytes = rows * dim * F;
    if (bytes <= cap.bytes) continue;
    const size = `the ${which} table of ${thousands(rows)} rows × ${thousands(dim)}`;
    if (rows * Math.min(dim, RECOMMENDER_DEFAULTS.embeddingDim) * F <= cap.bytes) {
      throw new ConfigError(`--embedding_dim ${dim}: ${size} ${beyond(bytes, cap)}; use --embedding_dim ${Math.floor(cap.bytes / (rows * F))} or less`);
    }
    throw new DataError(`${largestId(data, which)}: ${size} ${beyond(bytes, cap)}; ids are table rows, so number the ${which}s from 1 without gaps`);
  }
  // Evaluation scores every user against every item.
  const scores = users * items * F;
  if (scores > cap.bytes) {
    throw new DataError(
      `${largestId(data, 'user')} and ${largestId(data, 'item')}: the evaluation's score matrix of ${thousands(users)} users × ${thousands(items)} items ${beyond(scores, cap)}; ids are table rows, so number users and items from 1 without gaps`,
    );
  }
  // The regression MLP over a batch, or over every held-out rating at an evaluation.
  const train = trainCount(c, data.rows.count);
  const test = data.rows.count - train;
  const rows = Math.max(Math.min(c.batchSize, train), test);
  const width = Math.max(3 * dim, ...c.layerSizes);
  const mlp = rows * width * F;
  if (mlp > cap.bytes) {
    const over = rows === test ? `the ${thousands(test)} held-out ratings (--test_fraction ${c.testFraction})` : `--batch_size ${c.batchSize}`;
    const wide = width === 3 * dim ? `3 × --embedding_dim ${dim}` : `--layer_sizes ${c.layerSizes.join(',')}`;
    throw new ConfigError(`the regression MLP's widest layer, ${thousands(width)} (${wide}), over ${over} ${beyond(mlp, cap)}; make one of them smaller`);
  }
}
