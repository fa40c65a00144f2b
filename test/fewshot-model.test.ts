// The few-shot model: episodes as the course defines them, the first layer's two input paths
// (embedding bag and dense matmul) giving the same numbers, and the whole network against a
// float64 reference, its gradients by finite differences. Node and Chromium.
import { describe, expect, it } from 'vitest';
import { CompiledStep } from '../src/graph/compile.ts';
import { lstmLayerForwardRef } from '../src/kernels/lstm-ref.ts';
import { packBagCsr } from '../src/graph/bags.ts';
import { ImageBank, batchRows, episodeWords, firstQueryRow, sampleEpisodes, sequenceLength, type EpisodeShape } from '../src/models/fewshot/episodes.ts';
import { FewshotNet, buildFewshotGraph, type InputPath } from '../src/models/fewshot/model.ts';
import { syntheticOmniglot } from '../src/models/fewshot/synthetic.ts';
import { Rng } from '../src/random.ts';
import { expectClose, expectSameBits } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();
const set = syntheticOmniglot({ characters: 12, seed: 3 });
const bank = new ImageBank(set);

describe('episodes', () => {
  it('draw N distinct characters, K+1 distinct drawings each, support in class order, queries shuffled', () => {
    const shape: EpisodeShape = { numClasses: 3, numShot: 2, batch: 50 };
    const chars = [1, 4, 5, 7, 9, 11];
    const ep = sampleEpisodes(new Rng(1), chars, set.drawings, shape);
    expect(ep.length).toBe(episodeWords(shape));
    const { numClasses: N, numShot: K, batch: B } = shape;
    const firstQueryOrders = new Set<string>();
    for (let b = 0; b < B; b++) {
      const at = (t: number): [number, number] => [ep[2 * (t * B + b)], ep[2 * (t * B + b) + 1]];
      const charOf = new Map<number, number>();
      const seen = new Set<number>();
      for (let k = 0; k <= K; k++) {
        for (let j = 0; j < N; j++) {
          const [img, cls] = at(k * N + j);
          if (k < K) expect(cls, 'support rows are in class order').toBe(j);
          const ch = Math.floor(img / set.drawings);
          expect(chars).toContain(ch);
          if (charOf.has(cls)) expect(charOf.get(cls), 'one character per class').toBe(ch);
          charOf.set(cls, ch);
          expect(seen.has(img), 'distinct drawings').toBe(false);
          seen.add(img);
        }
      }
      expect(new Set(charOf.values()).size, 'distinct characters').toBe(N);
      const q = Array.from({ length: N }, (_, j) => at(K * N + j)[1]);
      expect([...q].sort()).toEqual([0, 1, 2]);
      firstQueryOrders.add(q.join());
    }
    expect(firstQueryOrders.size, 'the query order varies').toBeGreaterThan(3);
    // Same seed, same episodes.
    expect(Array.from(sampleEpisodes(new Rng(1), chars, set.drawings, shape))).toEqual(Array.from(ep));
  });

  it('bags and dense rows describe the same inputs (label columns on support rows only)', () => {
    const shape: EpisodeShape = { numClasses: 2, numShot: 1, batch: 5 };
    const ep = sampleEpisodes(new Rng(2), [0, 1, 2, 3], set.drawings, shape);
    const rows = batchRows(shape);
    const width = bank.pixels + shape.numClasses;
    const csr = bank.packBags(ep, shape, new Uint32Array(rows + 1 + rows * (bank.maxActive + 1)));
    const dense = bank.dense(ep, shape, new Float32Array(rows * width));
    const fromDense = Array.from({ length: rows }, (_, r) => Array.from({ length: width }, (_, v) => v).filter((v) => dense[r * width + v] !== 0));
    expect(Array.from(csr)).toEqual(Array.from(packBagCsr(fromDense, rows * width)));
    for (let r = 0; r < rows; r++) {
      const labels = dense.subarray(r * width + bank.pixels, (r + 1) * width);
      expect(labels.reduce((a, b) => a + b, 0)).toBe(r < firstQueryRow(shape) ? 1 : 0);
    }
    expect(bank.inkFraction).toBeGreaterThan(0.05);
    expect(bank.inkFraction).toBeLessThan(0.13);
  });
});

// ---- the network on the GPU ------------------------------------------------------------

const shape = { numClasses: 2, numShot: 1, batch: 3, hidden: 4 };
const T = sequenceLength(shape);
const B = shape.batch;
const N = shape.numClasses;
const rows = batchRows(shape);

interface Run {
  logits: Float32Array;
  loss: number;
  correct: number;
  grads: Map<string, Float32Array>;
}

async function run(path: InputPath, net: FewshotNet, ep: Uint32Array): Promise<Run> {
  const m = buildFewshotGraph(shape, bank, net, path, true);
  m.g.keep(m.logits);
  m.g.keep(m.loss);
  m.g.keep(m.correct);
  for (const d of m.grads!.values()) m.g.keep(d);
  const step = await CompiledStep.create(t.gpu, m.g);
  try {
    step.feed({ episodes: ep });
    step.run();
    const sum = (a: ArrayLike<number>): number => Array.from(a).reduce((x, y) => x + y, 0);
    const grads = new Map<string, Float32Array>();
    for (const [name, p] of m.params) grads.set(name, (await step.read(t.ring, m.grads!.get(p)!)) as Float32Array);
    return {
      logits: (await step.read(t.ring, m.logits)) as Float32Array,
      loss: sum(await step.read(t.ring, m.loss)),
      correct: sum(await step.read(t.ring, m.correct)),
      grads,
    };
  } finally {
    step.destroy();
  }
}

/** The network in float64: dense input, both LSTM layers, mean query cross-entropy. */
function reference(p: Record<string, ArrayLike<number>>, ep: Uint32Array): { logits: Float64Array; loss: number; correct: number } {
  const x = bank.dense(ep, shape, new Float32Array(rows * (bank.pixels + N)));
  const l1 = lstmLayerForwardRef(x, { wIh: p['lstm1.W_ih'], wHh: p['lstm1.W_hh'], bias: p['lstm1.b'] }, { steps: T, batch: B, input: bank.pixels + N, hidden: shape.hidden });
  const l2 = lstmLayerForwardRef(l1.h, { wIh: p['lstm2.W_ih'], wHh: p['lstm2.W_hh'], bias: p['lstm2.b'] }, { steps: T, batch: B, input: shape.hidden, hidden: N });
  let loss = 0;
  let correct = 0;
  for (let r = firstQueryRow(shape); r < rows; r++) {
    const z = l2.h.subarray(r * N, (r + 1) * N);
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
    const label = ep[2 * r + 1];
    loss += lse - z[label];
    if (z.indexOf(m) === label) correct++;
  }
  return { logits: l2.h, loss: loss / (N * B), correct };
}

describe('few-shot network', () => {
  const net = new FewshotNet(new Rng(5), N, shape.hidden);
  const params = net.namedParameters();
  // Larger weights than the init, so that the gradients are not tiny.
  for (const [name, p] of params) p.data.set(p.data.map((v, i) => v * 3 + (name.endsWith('.b') ? 0.1 * Math.sin(i) : 0)));
  const init = Object.fromEntries([...params].map(([n, p]) => [n, p.data]));
  const ep = sampleEpisodes(new Rng(6), [0, 2, 4, 6, 8, 10], set.drawings, shape);

  it('bag and dense first layers give the same logits, loss and gradients', async () => {
    const bags = await run('bags', net, ep);
    const dense = await run('dense', net, ep);
    // Each bag sum adds the same terms in the same order as the matmul (whose other terms are 0·w):
    // expect equal bits, and accept a few ulps should a driver contract differently.
    const tol = { atol: 1e-6, rtol: 1e-5 };
    expectClose(bags.logits, dense.logits, tol, 'logits');
    expect(bags.loss).toBeCloseTo(dense.loss, 6);
    for (const name of params.keys()) expectClose(bags.grads.get(name)!, dense.grads.get(name)!, tol, `d${name}`);
    expectSameBits(bags.grads.get('lstm1.W_ih')!, dense.grads.get('lstm1.W_ih')!, 'dW_ih bits');
    expect(bags.grads.get('lstm1.W_ih')!.some((v) => v !== 0)).toBe(true);
  });

  it('matches the float64 network, and its gradients match finite differences', async () => {
    const got = await run('bags', net, ep);
    const ref = reference(init, ep);
    expectClose(got.logits, ref.logits, { atol: 2e-6, rtol: 1e-5 }, 'logits');
    expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-5);
    expect(got.correct).toBe(ref.correct);
    const eps = 1e-4;
    const active = bank.packBags(ep, shape, new Uint32Array(rows + 1 + rows * (bank.maxActive + 1)));
    const pixel = active[rows + 1]; // an active pixel of the first row
    const picks: Record<string, number[]> = {
      'lstm1.W_ih': [pixel * 4 * shape.hidden + 1, (bank.pixels + 1) * 4 * shape.hidden + 6],
      'lstm1.W_hh': [0, 13],
      'lstm1.b': [2, 9],
      'lstm2.W_ih': [3, 20],
      'lstm2.W_hh': [1, 7],
      'lstm2.b': [0, 5],
    };
    for (const [name, idxs] of Object.entries(picks)) {
      const g = got.grads.get(name)!;
      for (const i of idxs) {
        const at = (d: number): number => {
          const p: Record<string, Float64Array> = Object.fromEntries([...params].map(([n, p]) => [n, Float64Array.from(p.data)]));
          p[name][i] += d;
          return reference(p, ep).loss;
        };
        const fd = (at(eps) - at(-eps)) / (2 * eps);
        expect(Math.abs(g[i] - fd), `d${name}[${i}]: GPU ${g[i]}, finite difference ${fd}`).toBeLessThan(2e-5 + 1e-3 * Math.abs(fd));
      }
    }
  });

  it('starts near ln N with the course initialisation', async () => {
    const fresh = new FewshotNet(new Rng(7), N, shape.hidden);
    const got = await run('bags', fresh, ep);
    expect(Math.abs(got.loss - Math.log(N))).toBeLessThan(0.1);
  });
});
