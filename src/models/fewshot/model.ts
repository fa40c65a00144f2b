// The course's memory-augmented network: LSTM(784 + N → H) then LSTM(H → N), whose hidden
// states are the logits; softmax cross-entropy on the query positions only.
//
// For a binary set the first layer's input projection x·W_ih + b is an embedding bag over each
// row's active pixels and its label column (≈9% of the matmul's work, and its weight gradient a
// deterministic scatter-add); for antialiased sets it is the dense matmul of the lstm op. Both
// give the same numbers on binary data (test/fewshot-model.test.ts).
import { add } from '../../graph/ops/basic.ts';
import { bagInputs, embeddingBag } from '../../graph/ops/embedding-bag.ts';
import { softmaxCrossEntropy } from '../../graph/ops/loss.ts';
import { lstm, lstmRecurrent } from '../../graph/ops/lstm.ts';
import { gradients } from '../../graph/autodiff.ts';
import { Graph } from '../../graph/graph.ts';
import type { Tensor } from '../../graph/tensor.ts';
import { orthogonal, transpose, xavierUniform } from '../../nn/init.ts';
import type { Rng } from '../../random.ts';
import { batchRows, episodeClasses, episodeWords, queryWeights, sequenceLength, type EpisodeShape, type ImageBank } from './episodes.ts';

/** How the first layer reads its input: an embedding bag (binary images) or a dense matmul. */
export type InputPath = 'bags' | 'dense';

export interface FewshotModelShape extends EpisodeShape {
  /** H: the first LSTM's width (the course's --hidden_size, 128). */
  hidden: number;
}

export const PARAM_NAMES = ['lstm1.W_ih', 'lstm1.W_hh', 'lstm1.b', 'lstm2.W_ih', 'lstm2.W_hh', 'lstm2.b'] as const;
export type ParamName = (typeof PARAM_NAMES)[number];
export type FewshotParams = Record<ParamName, Float32Array>;

/**
 * The course's initialisation: Xavier-uniform input weights, orthogonal recurrent weights
 * (torch.nn.init.orthogonal_ of PyTorch's [4H, H] weight_hh, stored here transposed as
 * [H, 4H]), zero biases (PyTorch's b_ih + b_hh, one vector here). Drawn in this order.
 */
export function initFewshotParams(rng: Rng, numClasses: number, hidden: number, pixels = 784): FewshotParams {
  const [N, H] = [numClasses, hidden];
  const inDim = pixels + N;
  return {
    'lstm1.W_ih': xavierUniform(rng, inDim, 4 * H),
    'lstm1.W_hh': transpose(orthogonal(rng, 4 * H, H), 4 * H, H),
    'lstm1.b': new Float32Array(4 * H),
    'lstm2.W_ih': xavierUniform(rng, H, 4 * N),
    'lstm2.W_hh': transpose(orthogonal(rng, 4 * N, N), 4 * N, N),
    'lstm2.b': new Float32Array(4 * N),
  };
}

export function paramShapes(numClasses: number, hidden: number, pixels = 784): Record<ParamName, number[]> {
  const [N, H] = [numClasses, hidden];
  return {
    'lstm1.W_ih': [pixels + N, 4 * H],
    'lstm1.W_hh': [H, 4 * H],
    'lstm1.b': [4 * H],
    'lstm2.W_ih': [H, 4 * N],
    'lstm2.W_hh': [N, 4 * N],
    'lstm2.b': [4 * N],
  };
}

export interface FewshotGraph {
  g: Graph;
  shape: FewshotModelShape;
  path: InputPath;
  /** u32 [T·B·2] (image, class) per row, fed by the host (see episodes.ts). */
  episodes: Tensor;
  params: Map<ParamName, Tensor>;
  /** [T·B, N]: the second LSTM's hidden states. */
  logits: Tensor;
  /** Per-row terms of the mean query cross-entropy: their sum is the loss. */
  loss: Tensor;
  /** Per-row 1 where a query is classified right (0 on support rows). */
  correct: Tensor;
  /** Gradients of the parameters (training graphs only). */
  grads: Map<Tensor, Tensor> | null;
}

/**
 * The model over one batch shape. `train` adds reverse mode (the caller adds the optimizer);
 * without it the graph is forward and loss only (evaluation), and needs no transposed CSR.
 */
export function buildFewshotGraph(shape: FewshotModelShape, bank: ImageBank, init: FewshotParams, path: InputPath, train: boolean): FewshotGraph {
  const { numClasses: N, batch: B, hidden: H } = shape;
  const T = sequenceLength(shape);
  const rows = batchRows(shape);
  const pixels = bank.pixels;
  const g = new Graph();
  const shapes = paramShapes(N, H, pixels);
  const params = new Map<ParamName, Tensor>(PARAM_NAMES.map((n) => [n, g.param(n, shapes[n], init[n])]));
  const p = (n: ParamName): Tensor => params.get(n) as Tensor;
  const episodes = g.input('episodes', [episodeWords(shape)], 'u32');
  const classBuf = new Uint32Array(rows);
  const classes = g.derived('classes', [rows], 'u32', { from: episodes, compute: (src) => episodeClasses(src, shape, classBuf) });
  const weights = queryWeights(shape);
  const rowWeights = g.derived('query_weights', [rows], 'f32', { from: episodes, compute: () => weights });

  let h1: Tensor;
  const layer1 = { steps: T, batch: B, hidden: H };
  if (path === 'bags') {
    if (!bank.binary) throw new Error('the embedding-bag input path needs a binary (nearest-neighbour) set');
    // Worst case: every row its image's most pixels, plus a label column.
    const capacity = rows * (bank.maxActive + 1);
    const bags = bagInputs(g, episodes, 'x', {
      rows,
      tableRows: pixels + N,
      capacity,
      pack: (src, out) => bank.packBags(src, shape, out),
      gradient: train,
    });
    h1 = lstmRecurrent(g, embeddingBag(g, p('lstm1.W_ih'), bags, p('lstm1.b')), p('lstm1.W_hh'), layer1);
  } else {
    const dense = new Float32Array(rows * (pixels + N));
    const x = g.derived('x', [rows, pixels + N], 'f32', { from: episodes, compute: (src) => bank.dense(src, shape, dense) });
    h1 = lstm(g, x, p('lstm1.W_ih'), p('lstm1.W_hh'), p('lstm1.b'), layer1);
  }
  const logits = lstm(g, h1, p('lstm2.W_ih'), p('lstm2.W_hh'), p('lstm2.b'), { steps: T, batch: B, hidden: N });
  const { loss, correct } = softmaxCrossEntropy(g, logits, classes, { rowWeights, divisor: N * B });
  const grads = train ? gradients(g, [loss], [...params.values()], add) : null;
  return { g, shape, path, episodes, params, logits, loss, correct, grads };
}
