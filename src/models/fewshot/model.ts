// The course's memory-augmented network: LSTM(784 + N → H) then LSTM(H → N), whose hidden
// states are the logits; softmax cross-entropy on the query positions only.
//
// For a binary set the first layer's input projection x·W_ih + b is an embedding bag over each
// row's active pixels and its label column (≈9% of the matmul's work, and its weight gradient a
// deterministic scatter-add); for antialiased sets it is the dense matmul of the lstm op. Both
// give the same numbers on binary data (test/fewshot-model.test.ts).
import { bagInputs } from '../../graph/ops/embedding-bag.ts';
import { softmaxCrossEntropy } from '../../graph/ops/loss.ts';
import { gradients } from '../../graph/autodiff.ts';
import { Graph, GraphError, type Tensor } from '../../graph/graph.ts';
import { init } from '../../nn/init.ts';
import { LSTM } from '../../nn/lstm.ts';
import { Module } from '../../nn/module.ts';
import type { Rng } from '../../random.ts';
import { batchRows, episodeClasses, episodeWords, queryWeights, sequenceLength, type EpisodeShape, type ImageBank } from './episodes.ts';

/** How the first layer reads its input: an embedding bag (binary images) or a dense matmul. */
export type InputPath = 'bags' | 'dense';

export interface FewshotModelShape extends EpisodeShape {
  /** H: the first LSTM's width (the course's --hidden_size, 128). */
  hidden: number;
}

/**
 * The network's weights: `lstm1` (784 + N → H) and `lstm2` (H → N), with the course's
 * initialisation: Xavier-uniform input weights, orthogonal recurrent weights
 * (torch.nn.init.orthogonal_ of PyTorch's [4H, H] weight_hh, stored transposed), zero biases
 * (PyTorch's b_ih + b_hh, one vector here). Drawn in that order, layer by layer.
 */
export class FewshotNet extends Module {
  readonly lstm1: LSTM;
  readonly lstm2: LSTM;

  constructor(
    rng: Rng,
    readonly numClasses: number,
    readonly hidden: number,
    readonly pixels = 784,
  ) {
    super();
    const course = { inputInit: init.xavier(), recurrentInit: init.orthogonal(), biasInit: init.zeros() };
    this.lstm1 = this.module('lstm1', new LSTM(rng, pixels + numClasses, hidden, course));
    this.lstm2 = this.module('lstm2', new LSTM(rng, hidden, numClasses, course));
  }
}

export interface FewshotGraph {
  g: Graph;
  shape: FewshotModelShape;
  path: InputPath;
  /** u32 [T·B·2] (image, class) per row, fed by the host (see episodes.ts). */
  episodes: Tensor;
  /** The parameters by name (their checkpoint keys). */
  params: Map<string, Tensor>;
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
export function buildFewshotGraph(shape: FewshotModelShape, bank: ImageBank, net: FewshotNet, path: InputPath, train: boolean): FewshotGraph {
  const { numClasses: N, batch: B, hidden: H } = shape;
  if (net.numClasses !== N || net.hidden !== H || net.pixels !== bank.pixels) {
    throw new GraphError(`the network (${net.numClasses} classes, hidden ${net.hidden}, ${net.pixels} pixels) does not fit the episodes (${N} classes, hidden ${H}, ${bank.pixels} pixels): make it with the same sizes`);
  }
  const T = sequenceLength(shape);
  const rows = batchRows(shape);
  const pixels = bank.pixels;
  const g = new Graph();
  const params = net.declare(g);
  const episodes = g.input('episodes', [episodeWords(shape)], 'u32');
  const classBuf = new Uint32Array(rows);
  const classes = g.derived('classes', [rows], 'u32', { from: episodes, compute: (src) => episodeClasses(src, shape, classBuf) });
  const weights = queryWeights(shape);
  const rowWeights = g.derived('query_weights', [rows], 'f32', { from: episodes, compute: () => weights });

  let h1: Tensor;
  const steps = { steps: T, batch: B };
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
    h1 = net.lstm1.forwardBags(g, bags, steps);
  } else {
    const dense = new Float32Array(rows * (pixels + N));
    const x = g.derived('x', [rows, pixels + N], 'f32', { from: episodes, compute: (src) => bank.dense(src, shape, dense) });
    h1 = net.lstm1.forward(g, x, steps);
  }
  const logits = net.lstm2.forward(g, h1, steps);
  const { loss, correct } = softmaxCrossEntropy(g, logits, classes, { rowWeights, divisor: N * B });
  const grads = train ? gradients(g, [loss], [...params.values()]) : null;
  return { g, shape, path, episodes, params, logits, loss, correct, grads };
}
