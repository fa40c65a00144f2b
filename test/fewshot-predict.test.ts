// Few-shot prediction from a checkpoint: a query's logits equal, to the bit, evaluation's for
// the same episode (its support set, the query in the first query position, anything in the
// later ones: the LSTMs are causal), on the embedding-bag path (binary images) and the dense
// path (grey ones); PNGs of any size go through training's preprocessing; bad inputs and old
// checkpoints get one sentence naming them. Node and Chromium.
import { encode as encodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import type { OmniglotSet } from '../src/data/omniglot-set.ts';
import type { PredictFile, PredictValue } from '../src/experiments/types.ts';
import { readCheckpoint } from '../src/graph/checkpoint.ts';
import { decodeSafetensors, encodeSafetensors } from '../src/log/safetensors.ts';
import { FEWSHOT_DEFAULTS, type FewshotConfig } from '../src/models/fewshot/config.ts';
import { episodeWords } from '../src/models/fewshot/episodes.ts';
import { FEWSHOT_PREDICTOR, FewshotPredictor, predictedClass, probabilities } from '../src/models/fewshot/predict.ts';
import { syntheticOmniglot } from '../src/models/fewshot/synthetic.ts';
import { FewshotTrainer } from '../src/models/fewshot/trainer.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

const N = 3;
const K = 2;
const B = 4;
const CONFIG: FewshotConfig = { ...FEWSHOT_DEFAULTS, numClasses: N, numShot: K, metaBatch: 4, hidden: 8, learningRate: 0.01, evalBatch: B, seed: 5 };
const SIDE = 28;
const P = SIDE * SIDE;

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** An 8-bit greyscale PNG of an ink image (255 = ink, drawn dark on white), each pixel `scale`×`scale`. */
function png(ink: Uint8Array, scale = 1): Uint8Array {
  const w = SIDE * scale;
  const data = new Uint8Array(w * w);
  for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) data[y * w + x] = 255 - ink[Math.floor(y / scale) * SIDE + Math.floor(x / scale)];
  return encodePng({ width: w, height: w, data, depth: 8, channels: 1 });
}

interface Sink {
  columns: readonly string[];
  rows: (string | number)[][];
}

async function predict(bytes: Uint8Array, values: Record<string, PredictValue | undefined>, name = 'fs.safetensors'): Promise<Sink> {
  const out: Sink = { columns: [], rows: [] };
  const sink = { columns: (c: readonly string[]) => void (out.columns = c), rows: (r: readonly (readonly (string | number)[])[]) => void out.rows.push(...r.map((x) => [...x])), note: () => {} };
  await FEWSHOT_PREDICTOR.predict(t.gpu, readCheckpoint(bytes, name), values, sink);
  return out;
}

/** A few trained steps on `set`, and its checkpoint. */
async function trained(set: OmniglotSet): Promise<{ tr: FewshotTrainer; bytes: Uint8Array }> {
  const tr = await FewshotTrainer.create(t.gpu, set, CONFIG);
  await tr.train(5);
  return { tr, bytes: await tr.checkpoint() };
}

describe('few-shot prediction', () => {
  for (const [path, grey] of [
    ['bags', false],
    ['dense', true],
  ] as const) {
    it(`gives evaluation's logits for the same episode, bit for bit (${path} path), from PNGs of any size`, async () => {
      const set = syntheticOmniglot({ characters: 30, seed: 4, grey });
      const { tr, bytes } = await trained(set);
      try {
        expect(tr.path).toBe(path);
        const file = readCheckpoint(bytes, 'fs.safetensors');
        expect(file.schema).toEqual({ side: SIDE, filter: grey ? 'area' : 'nearest', binary: !grey });
        const D = set.drawings;
        const image = (i: number): Uint8Array => set.pixels.slice(i * P, (i + 1) * P);
        // Support: N meta-test characters, K drawings each; queries: their next drawings and others'.
        const chars = tr.split.test.slice(0, N);
        const supportIdx = chars.map((ch) => Array.from({ length: K }, (_, k) => ch * D + k));
        const queryIdx = [...chars.map((ch) => ch * D + K), ...chars.map((ch) => ch * D + K + 1), tr.split.test[N] * D, tr.split.train[0] * D + 3];
        const Q = queryIdx.length; // 8: two batches of B = 4
        const p = await FewshotPredictor.open(t.gpu, file, supportIdx.map((s) => s.map(image)), queryIdx.map(image));
        let got: Float32Array;
        try {
          got = await p.logits();
        } finally {
          p.destroy();
        }
        // Evaluation's step on episodes of the set's own images: query q of a batch in episode b's
        // first query position, other images (not the query) in the later ones.
        const shape = tr.evaluationShape;
        expect(shape).toMatchObject({ numClasses: N, numShot: K, batch: B });
        const want = new Float32Array(Q * N);
        for (let at = 0; at < Q; at += B) {
          const words = new Uint32Array(episodeWords(shape));
          for (let b = 0; b < B; b++) {
            for (let k = 0; k < K; k++) for (let c = 0; c < N; c++) words.set([supportIdx[c][k], c], 2 * ((k * N + c) * B + b));
            for (let j = 0; j < N; j++) words.set([j === 0 ? queryIdx[at + b] : ((j * 7 + b) % 30) * D + 9, j], 2 * ((K * N + j) * B + b));
          }
          const logits = await tr.evaluationLogits(words);
          want.set(logits.subarray(K * N * B * N, (K * N * B + B) * N), at * N);
        }
        expect(bits(got)).toEqual(bits(want));
        expect(new Set(got).size).toBe(Q * N); // trained weights, distinct queries: no two logits alike
        // The same through the predictor's files: class folders of PNGs (sorted names: class order
        // and shots), queries twice as large as training's images (nearest and area both reduce
        // each 2×2 block of one value to that value).
        const names = ['alpha', 'beta', 'gamma'];
        const support: PredictFile[] = supportIdx.flatMap((s, c) => s.map((i, k) => ({ name: `${names[c]}/${k}.png`, bytes: png(image(i)) }))).reverse();
        const query: PredictFile[] = queryIdx.map((i, q) => ({ name: `q${q}.png`, bytes: png(image(i), 2) }));
        const out = await predict(bytes, { support, query });
        expect(out.columns).toEqual(['query', 'class', 'alpha_probability', 'beta_probability', 'gamma_probability']);
        expect(out.rows).toEqual(
          queryIdx.map((_, q) => {
            const row = want.subarray(q * N, (q + 1) * N);
            return [`q${q}.png`, names[predictedClass(row)], ...probabilities(row)];
          }),
        );
      } finally {
        tr.destroy();
      }
    });
  }

  it('names the missing, miscounted or unreadable input, and what an old checkpoint lacks, in one sentence', async () => {
    const set = syntheticOmniglot({ characters: 30, seed: 4 });
    const { tr, bytes } = await trained(set);
    tr.destroy();
    const ink = set.pixels.slice(0, P);
    const img = (name: string): PredictFile => ({ name, bytes: png(ink) });
    const support = ['a/1.png', 'a/2.png', 'b/1.png', 'b/2.png', 'c/1.png', 'c/2.png'].map(img);
    const query = [img('q.png')];
    await expect(predict(bytes, { query })).rejects.toThrow('predict needs --support DIR: a folder with 3 sub-folders (one per class) of 2 PNG images each.');
    await expect(predict(bytes, { support })).rejects.toThrow('predict needs --query FILES: the PNG images to classify (files, comma-separated, or a folder).');
    await expect(predict(bytes, { support, query: [] })).rejects.toThrow('--query holds no images; give PNG files or a folder of them.');
    await expect(predict(bytes, { support: [], query })).rejects.toThrow('--support holds no images; give a folder with 3 sub-folders (one per class) of 2 PNG images each.');
    await expect(predict(bytes, { support: support.slice(0, 4), query })).rejects.toThrow('--support has 2 class folders (a, b); the model was trained 3-way: give 3 sub-folders, one per class.');
    await expect(predict(bytes, { support: [...support, img('d/1.png'), img('d/2.png')], query })).rejects.toThrow(/^--support has 4 class folders \(a, b, c, d\); the model was trained 3-way/);
    await expect(predict(bytes, { support: [...support, img('b/3.png')], query })).rejects.toThrow('--support class folder b has 3 images; the model was trained 2-shot: give 2 PNG images in every class folder.');
    await expect(predict(bytes, { support: [...support, img('x.png')], query })).rejects.toThrow(/^--support x\.png is not in a class folder; give a folder with one sub-folder per class/);
    const text = { name: 'notes.txt', bytes: new TextEncoder().encode('not an image') };
    await expect(predict(bytes, { support, query: [text] })).rejects.toThrow('--query notes.txt is not a PNG image; give PNG images only (a drawing, dark ink on a light background).');
    await expect(predict(bytes, { support: [...support.slice(0, 5), { ...text, name: 'c/2.txt' }], query })).rejects.toThrow(/^--support c\/2\.txt is not a PNG image/);
    const broken = png(ink).slice(0, 40);
    await expect(predict(bytes, { support, query: [{ name: 'cut.png', bytes: broken }] })).rejects.toThrow(/^--query cut\.png is not a valid PNG \(/);
    // Colour and transparency, as drawing programs save: black on white RGB, black strokes on a
    // transparent RGBA canvas, the same ink as the greyscale PNG, the same prediction.
    const rgb = new Uint8Array(P * 3).map((_, i) => 255 - ink[Math.floor(i / 3)]);
    const rgba = new Uint8Array(P * 4).map((_, i) => (i % 4 === 3 ? ink[i >> 2] : 0));
    const colour = await predict(bytes, {
      support,
      query: [img('grey.png'), { name: 'rgb.png', bytes: encodePng({ width: SIDE, height: SIDE, data: rgb, depth: 8, channels: 3 }) }, { name: 'rgba.png', bytes: encodePng({ width: SIDE, height: SIDE, data: rgba, depth: 8, channels: 4 }) }],
    });
    expect(colour.rows.map((r) => r.slice(1))).toEqual([0, 1, 2].map(() => colour.rows[0].slice(1)));
    const blank = await predict(bytes, { support, query: [{ name: 'blank.png', bytes: encodePng({ width: SIDE, height: SIDE, data: new Uint8Array(P * 4), depth: 8, channels: 4 }) }] });
    expect(blank.rows[0].slice(2)).not.toEqual(colour.rows[0].slice(2)); // the ink is read, not ignored
    // A checkpoint from before few-shot checkpoints described their images.
    const { tensors, metadata } = decodeSafetensors(bytes, 'fs.safetensors');
    const { schema: _s, ...old } = metadata;
    await expect(predict(encodeSafetensors(tensors, old), { support, query }, 'old.safetensors')).rejects.toThrow(
      'old.safetensors has no image schema (the side, resize filter and binary flag of its training images; it was written before few-shot checkpoints described their images); resume it with --resume and --checkpoint for one more step to write one that does',
    );
  });
});
