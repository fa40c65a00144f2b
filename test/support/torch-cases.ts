// shadertrain's forward outputs on a batch, from a checkpoint, for test/support/torch_reference.py
// to compare with the PyTorch module loaded from the exported file: each case holds the inputs,
// the outputs and what the Python side needs to build the module.
import type { Gpu } from '../../src/gpu/context.ts';
import { StagingRing } from '../../src/gpu/readback.ts';
import { loadWeights, type CheckpointFile } from '../../src/graph/checkpoint.ts';
import { CompiledStep } from '../../src/graph/compile.ts';
import { Graph, type Tensor } from '../../src/graph/graph.ts';
import { add } from '../../src/graph/ops/basic.ts';
import { mul } from '../../src/graph/ops/elementwise.ts';
import { matmul } from '../../src/graph/ops/matmul.ts';
import { FEWSHOT_DEFAULTS, type FewshotConfig } from '../../src/models/fewshot/config.ts';
import { FewshotNet } from '../../src/models/fewshot/model.ts';
import { layoutOf } from '../../src/models/multitask/model.ts';
import { MULTITASK_DEFAULTS, type MultitaskConfig } from '../../src/models/multitask/config.ts';
import { MultitaskPredictor } from '../../src/models/multitask/predict.ts';
import { schemaFrom } from '../../src/models/multitask/schema.ts';
import { RECOMMENDER_DEFAULTS, type RecommenderConfig } from '../../src/models/recommender/config.ts';
import { Recommender } from '../../src/models/recommender/model.ts';
import { ident } from '../../src/models/multitask/model.ts';
import { Rng } from '../../src/random.ts';

export interface TorchCase {
  inputs: Record<string, unknown>;
  expected: Record<string, number[]>;
  [more: string]: unknown;
}

/** Runs a forward-only graph once with the checkpoint's weights and reads `outputs`. */
async function forward(gpu: Gpu, file: CheckpointFile, g: Graph, feed: Record<string, Float32Array | Uint32Array>, outputs: Tensor[]): Promise<Float32Array[]> {
  const ring = new StagingRing(gpu);
  const step = await CompiledStep.create(gpu, g);
  try {
    loadWeights(file, step);
    step.feed(feed);
    step.run();
    const out: Float32Array[] = [];
    for (const t of outputs) out.push((await step.read(ring, t)) as Float32Array);
    return out;
  } finally {
    step.destroy();
    ring.destroy();
  }
}

/** Factorization scores u·q + a_u + b_i and predicted ratings for `n` random (user, item) pairs. */
export async function recommenderCase(gpu: Gpu, file: CheckpointFile, n: number, seed: number): Promise<TorchCase> {
  const c = { ...RECOMMENDER_DEFAULTS, ...file.config } as RecommenderConfig;
  const tables = { users: file.tensors.user_biases.shape[0], items: file.tensors.item_biases.shape[0] };
  const m = new Recommender(c, tables, new Rng(0));
  const g = new Graph();
  m.declare(g);
  const users = g.input('users', [n], 'u32');
  const items = g.input('items', [n], 'u32');
  const ones = g.input('ones', [c.embeddingDim, 1], 'f32');
  const dot = matmul(g, mul(g, m.factorization.users.forward(g, users), m.factorization.items.forward(g, items)), ones);
  const score = g.keep(add(g, add(g, dot, m.userBiases.forward(g, users)), m.itemBiases.forward(g, items)));
  const rating = g.keep(m.predict(g, m.regression.users.forward(g, users), m.regression.items.forward(g, items)));
  const rng = new Rng(seed);
  const u = Uint32Array.from({ length: n }, () => rng.int(tables.users));
  const i = Uint32Array.from({ length: n }, () => rng.int(tables.items));
  const [s, r] = await forward(gpu, file, g, { users: u, items: i, ones: new Float32Array(c.embeddingDim).fill(1) }, [score, rating]);
  return { inputs: { users: [...u], items: [...i] }, expected: { score: [...s], rating: [...r] } };
}

/** The second LSTM's outputs (the logits) over random inputs of `batch` sequences. */
export async function fewshotCase(gpu: Gpu, file: CheckpointFile, batch: number, seed: number): Promise<TorchCase> {
  const c = { ...FEWSHOT_DEFAULTS, ...file.config } as FewshotConfig;
  const N = c.numClasses;
  const pixels = file.tensors['lstm1.W_ih'].shape[0] - N;
  const net = new FewshotNet(new Rng(0), N, c.hidden, pixels);
  const T = (c.numShot + 1) * N;
  const steps = { steps: T, batch };
  const g = new Graph();
  net.declare(g);
  const x = g.input('x', [T * batch, pixels + N], 'f32');
  const logits = g.keep(net.lstm2.forward(g, net.lstm1.forward(g, x, steps), steps));
  const rng = new Rng(seed);
  const xs = Float32Array.from({ length: T * batch * (pixels + N) }, () => rng.uniform());
  const [out] = await forward(gpu, file, g, { x: xs }, [logits]);
  return { inputs: { x: [...xs], steps: T, batch }, expected: { logits: [...out] } };
}

/** Every output of the evaluation graph (probabilities, values) for `n` random encoded rows. */
export async function multitaskCase(gpu: Gpu, file: CheckpointFile, n: number, seed: number): Promise<TorchCase> {
  const c = { ...MULTITASK_DEFAULTS, ...file.config } as MultitaskConfig;
  const schema = schemaFrom(file);
  const layout = layoutOf(c, schema);
  const rng = new Rng(seed);
  const F = schema.categorical.length;
  const C = schema.continuous.length;
  const categorical = Uint32Array.from({ length: n * F }, (_, k) => rng.int(schema.categorical[k % F].vocab.length));
  const continuous = Float32Array.from({ length: n * C }, () => rng.normal());
  const p = await MultitaskPredictor.open(gpu, file);
  try {
    const out = await p.predict({ count: n, categorical, continuous });
    return {
      inputs: { rows: n, categorical: [...categorical], continuous: [...continuous] },
      expected: { outputs: [...out] },
      fields: layout.shape.fields.map((f) => f.vocabulary),
      shared: layout.shared,
      private: layout.private,
      tasks: p.schema.tasks.map((t) => ident(t.name)),
      kinds: p.schema.outputs.map((o) => o.kind),
    };
  } finally {
    p.destroy();
  }
}
