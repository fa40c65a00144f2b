// Recommender prediction from a checkpoint and its training ratings: predicted ratings equal
// evaluation's to the bit, a user's scores are the ones evaluation ranks by, the top items skip
// what the user rated in training; unknown ids, bad pairs lines and other ratings get one
// sentence naming them. Node and Chromium.
import { describe, expect, it } from 'vitest';
import { fingerprint } from '../src/data/fingerprint.ts';
import { parseRatings } from '../src/data/movielens.ts';
import type { PredictFile } from '../src/experiments/types.ts';
import { readCheckpoint } from '../src/graph/checkpoint.ts';
import { RECOMMENDER_DEFAULTS, type RecommenderConfig } from '../src/models/recommender/config.ts';
import { RECOMMENDER_PREDICTOR, RecommenderPredictor } from '../src/models/recommender/predict.ts';
import { RecommenderTrainer } from '../src/models/recommender/trainer.ts';
import { Rng } from '../src/random.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

/** Made-up ratings in the u.data layout (never MovieLens itself): users 1..30, items 1..40 (item 39 never rated). */
function uData(n: number): string {
  const rng = new Rng(1);
  const seen = new Set<string>();
  const out: string[] = [];
  while (out.length < n) {
    const u = 1 + rng.int(30);
    const i = 1 + rng.int(40);
    if (i === 39 || seen.has(`${u},${i}`)) continue;
    seen.add(`${u},${i}`);
    out.push(`${u}\t${i}\t${1 + ((u + 2 * i) % 5)}\t${880000000 + out.length}`);
  }
  return `${out.join('\n')}\n`;
}

const DATA: PredictFile = { name: 'u.data', bytes: new TextEncoder().encode(uData(400)) };
const TITLES: PredictFile = {
  name: 'u.item',
  bytes: new TextEncoder().encode(Array.from({ length: 40 }, (_, i) => `${i + 1}|Film ${i + 1} (1990)|01-Jan-1990||http://x|0|1`).join('\n') + '\n'),
};

const CONFIG: RecommenderConfig = { ...RECOMMENDER_DEFAULTS, epochs: 2, batchSize: 32, embeddingDim: 4, layerSizes: [12, 8], testFraction: 0.2, seed: 3 };

async function trained(): Promise<{ tr: RecommenderTrainer; bytes: Uint8Array }> {
  const rows = parseRatings(DATA.bytes, DATA.name);
  const tr = await RecommenderTrainer.create(t.gpu, rows, CONFIG, { name: 'movielens', source: 'u.data', fingerprint: await fingerprint([DATA]) });
  await tr.train(2);
  return { tr, bytes: await tr.checkpoint() };
}

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

interface Out {
  columns: readonly string[];
  rows: (string | number)[][];
  notes: string[];
}

async function predict(bytes: Uint8Array, values: Record<string, unknown>): Promise<Out> {
  const out: Out = { columns: [], rows: [], notes: [] };
  const sink = { columns: (c: readonly string[]) => void (out.columns = c), rows: (r: readonly (readonly (string | number)[])[]) => void out.rows.push(...r.map((x) => [...x])), note: (l: string) => void out.notes.push(l) };
  await RECOMMENDER_PREDICTOR.predict(t.gpu, readCheckpoint(bytes, 'rec.safetensors'), { top: 10, ...values }, sink);
  return out;
}

const text = (name: string, s: string): PredictFile[] => [{ name, bytes: new TextEncoder().encode(s) }];

describe('recommender prediction', () => {
  it("predicts evaluation's ratings to the bit, and ranks by evaluation's scores", async () => {
    const { tr, bytes } = await trained();
    try {
      const file = readCheckpoint(bytes, 'rec.safetensors');
      expect(file.experiment).toBe('recommender');
      const rows = parseRatings(DATA.bytes, DATA.name);
      const { ranks, predictions } = await tr.evaluationOutputs();
      const test = tr.split.test;
      const users = Array.from(test, (r) => rows.users[r]);
      const items = Array.from(test, (r) => rows.items[r]);
      const p = await RecommenderPredictor.open(t.gpu, file, rows);
      try {
        // Once as evaluation batches them, and again longer than one batch (two batches, the last padded).
        expect(bits(await p.ratings(users, items))).toEqual(bits(predictions));
        const twice = await p.ratings([...users, ...users.slice(0, 7)], [...items, ...items.slice(0, 7)]);
        expect(bits(twice)).toEqual([...bits(predictions), ...bits(predictions.subarray(0, 7))]);
        // Each held-out item's rank, from the user's scores as the rank kernel defines it.
        for (let k = 0; k < test.length; k++) {
          const s = await p.scores(users[k]);
          const seen = p.ratedInTraining(users[k]);
          let greater = 0;
          let equal = 0;
          for (let j = 0; j < s.length; j++) {
            if (seen.has(j)) continue;
            if (s[j] > s[items[k]]) greater++;
            else if (s[j] === s[items[k]]) equal++;
          }
          expect(1 + greater + (equal - 1) / 2).toBe(ranks[k]);
        }
        // The top items: known, not rated in training, best score first, their ratings as predicted for the pair.
        const user = users[0];
        const top = await p.top(user, 5);
        const s = await p.scores(user);
        const seen = p.ratedInTraining(user);
        const want = Array.from({ length: 41 }, (_, i) => i)
          .filter((i) => i !== 0 && i !== 39 && !seen.has(i))
          .sort((a, b) => s[b] - s[a] || a - b)
          .slice(0, 5);
        expect(top.map((r) => r.item)).toEqual(want);
        expect(bits(Float32Array.from(top, (r) => r.predicted))).toEqual(bits(await p.ratings(new Array<number>(5).fill(user), want)));
        const a = (file.tensors.user_biases.data as Float32Array)[user];
        expect(top.map((r) => r.score)).toEqual(want.map((i) => Math.fround(s[i] + a)));
      } finally {
        p.destroy();
      }
    } finally {
      tr.destroy();
    }
  });

  it('writes a top-N list with titles and a rating per pair', async () => {
    const { tr, bytes } = await trained();
    tr.destroy();
    const top = await predict(bytes, { data: [DATA], user: 7, top: 3, titles: [TITLES] });
    expect(top.columns).toEqual(['user', 'rank', 'item', 'title', 'predicted_rating', 'score']);
    expect(top.rows.map((r) => r.slice(0, 2))).toEqual([
      [7, 1],
      [7, 2],
      [7, 3],
    ]);
    for (const r of top.rows) expect(r[3]).toBe(`Film ${r[2]} (1990)`);
    const pairs = await predict(bytes, { data: [DATA], pairs: text('pairs.csv', 'user,item\n7,3\n7\t5\n2::40::4::0\n') });
    expect(pairs.columns).toEqual(['user', 'item', 'predicted_rating']);
    expect(pairs.rows.map((r) => r.slice(0, 2))).toEqual([
      [7, 3],
      [7, 5],
      [2, 40],
    ]);
    expect(pairs.notes).toEqual([]);
  });

  it('names the unknown id, the bad line and the wrong data in one sentence', async () => {
    const { tr, bytes } = await trained();
    tr.destroy();
    await expect(predict(bytes, { data: [DATA], user: 31 })).rejects.toThrow('--user 31 has no ratings in the data the model was trained on; give a user id from 1 to 30 that has some.');
    await expect(predict(bytes, { data: [DATA], user: 0 })).rejects.toThrow(/^--user 0 has no ratings/);
    await expect(predict(bytes, { data: [DATA], pairs: text('p.csv', '1,2\n1,39\n') })).rejects.toThrow(
      'p.csv line 2: item 39 has no ratings in the data the model was trained on; give an item id from 1 to 40 that has some.',
    );
    await expect(predict(bytes, { data: [DATA], pairs: text('p.csv', '1,2\n99,3\n') })).rejects.toThrow(/^p\.csv line 2: user 99 has no ratings/);
    await expect(predict(bytes, { data: [DATA], pairs: text('p.csv', '1,2\n\n3,x\n') })).rejects.toThrow(
      'p.csv line 3: "3,x" is not a pair of ids; give a user id and an item id per line (a header line may come first).',
    );
    await expect(predict(bytes, { data: [DATA], pairs: text('p.csv', 'user,item\n') })).rejects.toThrow('p.csv holds no pairs; give a user id and an item id per line.');
    const other = text('u.data', uData(399));
    await expect(predict(bytes, { data: other, user: 1 })).rejects.toThrow(
      '--data u.data is not the data rec.safetensors was trained on (its SHA-256 differs from the one the checkpoint recorded for u.data); give that ratings file.',
    );
    await expect(predict(bytes, { user: 1 })).rejects.toThrow('predict needs --data PATH, the ratings rec.safetensors was trained on (it records u.data): they give the items each user rated in training.');
    await expect(predict(bytes, { data: [DATA] })).rejects.toThrow("predict needs --user ID (that user's top items) or --pairs FILE (a rating per user and item).");
    await expect(predict(bytes, { data: [DATA], user: 1, pairs: text('p.csv', '1,2\n') })).rejects.toThrow('--user and --pairs cannot be combined; give one.');
    // A folder's files: the ratings file at its top, the titles beside it.
    const folder = await predict(bytes, { data: [{ ...TITLES }, { ...DATA }, { name: 'README', bytes: new Uint8Array(3) }], user: 2, top: 1 });
    expect(folder.columns).toContain('title');
  });
});
