// Mistakes caught before any GPU work, each as one sentence naming the flag (or the data line)
// and what to do: a flag left without its value, sizes beyond the adapter's limits, absurd values.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFlags } from '../cli/flags.ts';
import type { OmniglotSet } from '../src/data/omniglot-set.ts';
import { FEWSHOT_DEFAULTS } from '../src/models/fewshot/config.ts';
import { checkFewshotLimits } from '../src/models/fewshot/limits.ts';
import { RECOMMENDER_DEFAULTS, type RecommenderConfig } from '../src/models/recommender/config.ts';
import { checkRecommenderData, checkRecommenderLimits } from '../src/models/recommender/limits.ts';
import type { RecommenderData } from '../src/models/recommender/split.ts';
import { CLI_TIMEOUT, ownLines } from './support/cli-fewshot.ts';

const ML100K = '../shared/data/ml-100k/u.data';

describe('flags', () => {
  const spec = { epochs: { type: 'string' }, logdir: { type: 'string' }, json: { type: 'boolean' } } as const;
  it('a flag without its value is one line naming the flag and what followed it', () => {
    expect(() => parseFlags(['--epochs', '--logdir', 'L'], spec)).toThrow(/^--epochs needs a value \(it was followed by --logdir\); see --help$/);
    expect(() => parseFlags(['--logdir', 'L', '--epochs'], spec)).toThrow(/^--epochs needs a value; see --help$/);
    expect(() => parseFlags(['--json', '--epochs'], spec)).toThrow(/^--epochs needs a value; see --help$/);
  });
});

// A small adapter: 1 MiB per buffer, so tiny configs and data reach the limit.
const MIB = { maxBufferSize: 2 ** 20, maxStorageBufferBindingSize: 2 ** 20 };

/** Ratings in file order (as the MovieLens parser gives them), from u.data-like lines. */
function ratings(lines: [number, number][], format = 'ml-100k'): RecommenderData {
  const rows = { users: Uint32Array.from(lines, (l) => l[0]), items: Uint32Array.from(lines, (l) => l[1]), ratings: new Float32Array(lines.length).fill(3), count: lines.length, format };
  return { rows, titles: null, origin: { name: 'movielens', source: 'u.data', fingerprint: { sha256: '0', of: ['u.data'] } } };
}

describe('sizes beyond the adapter, before anything is built', () => {
  const small: RecommenderConfig = { ...RECOMMENDER_DEFAULTS, batchSize: 4, embeddingDim: 8, layerSizes: [24, 16] };
  const lines = Array.from({ length: 40 }, (_, i): [number, number] => [1 + (i % 7), 1 + (i % 11)]);

  it('recommender: a small config fits', () => {
    expect(() => checkRecommenderLimits(small, ratings(lines), MIB)).not.toThrow();
    expect(() => checkRecommenderData(small, ratings(lines))).not.toThrow();
  });

  it('recommender: --embedding_dim, named with the largest that fits', () => {
    const c = { ...small, embeddingDim: 100_000, layerSizes: [300_000] };
    expect(() => checkRecommenderLimits(c, ratings(lines), MIB)).toThrow(
      /^--embedding_dim 100000: the item table of 12 rows × 100,000 needs 4.8 MB, more than this adapter's largest buffer \(maxStorageBufferBindingSize, 1.05 MB\); use --embedding_dim 21845 or less$/,
    );
  });

  it('recommender: a huge id, named with its line (a csv header counts)', () => {
    const big: [number, number][] = [...lines.slice(0, 9), [16_777_215, 3], ...lines.slice(9)];
    expect(() => checkRecommenderLimits(small, ratings(big), MIB)).toThrow(/^user id 16777215 \(line 10 of u\.data\): the user table of 16,777,216 rows × 8 needs 537 MB, .*; ids are table rows, so number the users from 1 without gaps$/);
    expect(() => checkRecommenderLimits(small, ratings(big, 'csv'), MIB)).toThrow(/^user id 16777215 \(line 11 of u\.data\)/);
    // Ids that each fit a table, but not the evaluation's users × items scores.
    const wide: [number, number][] = [...lines, [600, 3], [2, 600]];
    expect(() => checkRecommenderLimits(small, ratings(wide), MIB)).toThrow(/^user id 600 \(line 41 of u\.data\) and item id 600 \(line 42 of u\.data\): the evaluation's score matrix of 601 users × 601 items needs 1.44 MB, /);
  });

  it('recommender: the MLP over the held-out ratings, and --batch_size beyond the training ratings', () => {
    expect(() => checkRecommenderLimits({ ...small, layerSizes: [24, 100_000], testFraction: 0.25 }, ratings(lines), MIB)).toThrow(
      /^the regression MLP's widest layer, 100,000 \(--layer_sizes 24,100000\), over the 10 held-out ratings \(--test_fraction 0.25\) needs 4 MB, .*; make one of them smaller$/,
    );
    expect(() => checkRecommenderLimits({ ...small, batchSize: 30, embeddingDim: 10_000, layerSizes: [30_000] }, ratings(lines), MIB)).toThrow(
      /^the regression MLP's widest layer, 30,000 \(3 × --embedding_dim 10000\), over --batch_size 30 needs 3.6 MB, /,
    );
    expect(() => checkRecommenderData({ ...small, batchSize: 1e9 }, ratings(lines))).toThrow(/^--batch_size 1000000000 is more than the 38 training ratings; use --batch_size 38 or less$/);
  });

  const set: OmniglotSet = { characters: 30, drawings: 20, side: 28, filter: 'nearest', binary: true, pixels: new Uint8Array(30 * 20 * 784), names: [] };
  it('few-shot: N·(K+1) rows of a batch, named with the batch that fits', () => {
    const c = { ...FEWSHOT_DEFAULTS, numClasses: 20, numShot: 19, hidden: 16, metaBatch: 4, evalBatch: 32 };
    expect(() => checkFewshotLimits({ ...c, evalBatch: 4 }, set, MIB)).not.toThrow();
    expect(() => checkFewshotLimits(c, set, MIB)).toThrow(
      /^--num_classes 20 × \(--num_shot 19 \+ 1\) × --eval_batch_size 32 = 12,800 rows, each 80 wide \(the second LSTM's 4 × --num_classes 20 gates\): one buffer needs 4.1 MB, .*; use --eval_batch_size 8 or less$/,
    );
    expect(() => checkFewshotLimits({ ...c, numShot: 9, input: 'dense', evalBatch: 8 }, set, MIB)).toThrow(/= 1,600 rows, each 804 wide \(the 784 pixels and 20 labels of the input\).*; use --eval_batch_size 1 or less$/);
    expect(() => checkFewshotLimits({ ...c, hidden: 200_000 }, set, MIB)).toThrow(/4 × --hidden_size 200000 gates\).*; lower --num_classes or --num_shot$/);
  });
});

describe('the CLI refuses at once', () => {
  it('recommender --embedding_dim beyond the adapter, in one line, with nothing written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shadertrain-upfront-'));
    try {
      execFileSync(process.execPath, ['scripts/build.mjs', 'cli']);
      const logdir = join(dir, 'logs');
      const r = spawnSync(process.execPath, ['dist/cli.js', 'recommender', '--data', ML100K, '--embedding_dim', '1000000', '--layer_sizes', '3000000', '--logdir', logdir], { encoding: 'utf8', timeout: CLI_TIMEOUT });
      expect(r.status).toBe(1);
      expect(ownLines(r.stderr)).toHaveLength(1);
      expect(ownLines(r.stderr)[0]).toMatch(/^shadertrain: --embedding_dim 1000000: the item table of 1,683 rows × 1,000,000 needs 6.73 GB, more than this adapter's largest buffer \(\w+, [\d.]+ \wB\); use --embedding_dim \d+ or less$/);
      expect(r.stdout).toBe('');
      expect(existsSync(logdir)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, CLI_TIMEOUT);
});
