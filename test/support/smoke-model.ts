// The smoke run: a tiny matrix factorization on synthetic ratings, built as a graph and
// trained as one compiled step per batch (gather, row dot, fused MSE, their gradients by
// reverse mode, Adam). It proves an adapter can train: the loss falls by orders of magnitude.
import type { Gpu } from '../../src/gpu/context.ts';
import { StagingRing } from '../../src/gpu/readback.ts';
import { gradients } from '../../src/graph/autodiff.ts';
import { CompiledStep } from '../../src/graph/compile.ts';
import { Graph } from '../../src/graph/graph.ts';
import { Metrics } from '../../src/graph/metrics.ts';
import { mseLoss } from '../../src/graph/ops/loss.ts';
import { rowDot } from '../../src/graph/ops/rows.ts';
import { Embedding } from '../../src/nn/embedding.ts';
import { init } from '../../src/nn/init.ts';
import { Module } from '../../src/nn/module.ts';
import { AdamOptimizer } from '../../src/optim/adam.ts';
import { Rng } from '../../src/random.ts';

export interface SmokeOptions {
  users: number;
  items: number;
  dim: number;
  batch: number;
  steps: number;
  /** Steps between loss readbacks (the loss is summed on the GPU in between). */
  logEvery: number;
  lr: number;
  seed: number;
}

export const SMOKE_DEFAULTS: SmokeOptions = { users: 64, items: 48, dim: 8, batch: 128, steps: 300, logEvery: 50, lr: 0.05, seed: 0 };

export interface SmokeLog {
  step: number;
  loss: number;
}

/** A factor table for users and one for items, normal(0, 0.1²). */
class Factors extends Module {
  readonly users: Embedding;
  readonly items: Embedding;

  constructor(rng: Rng, o: SmokeOptions) {
    super();
    this.users = this.module('user_factors', new Embedding(rng, o.users, o.dim, { init: init.normal(0.1) }));
    this.items = this.module('item_factors', new Embedding(rng, o.items, o.dim, { init: init.normal(0.1) }));
  }
}

export async function trainSmoke(gpu: Gpu, o: SmokeOptions, log: (l: SmokeLog) => void): Promise<SmokeLog[]> {
  const rng = new Rng(o.seed);
  const normals = (n: number, std: number): Float32Array => Float32Array.from({ length: n }, () => std * rng.normal());
  // Ratings from hidden factors of the same dimension: a loss near 0 is reachable.
  const hiddenU = normals(o.users * o.dim, o.dim ** -0.25);
  const hiddenQ = normals(o.items * o.dim, o.dim ** -0.25);

  const model = new Factors(rng, o);
  const g = new Graph();
  const params = model.declare(g);
  const users = g.input('users', [o.batch], 'u32');
  const items = g.input('items', [o.batch], 'u32');
  const rating = g.input('rating', [o.batch], 'f32');
  const loss = mseLoss(g, rowDot(g, model.users.forward(g, users), model.items.forward(g, items)), rating);
  const metrics = new Metrics(g, ['loss']);
  metrics.add(g, 'loss', loss);
  const opt = new AdamOptimizer({ lr: o.lr }).attach(g, gradients(g, [loss], [...params.values()]));

  const step = await CompiledStep.create(gpu, g);
  const ring = new StagingRing(gpu);
  try {
    const history: SmokeLog[] = [];
    for (let t = 1; t <= o.steps; t++) {
      const us = Uint32Array.from({ length: o.batch }, () => rng.int(o.users));
      const is = Uint32Array.from({ length: o.batch }, () => rng.int(o.items));
      const r = Float32Array.from(us, (u, j) => {
        let s = 0;
        for (let d = 0; d < o.dim; d++) s += hiddenU[u * o.dim + d] * hiddenQ[is[j] * o.dim + d];
        return s;
      });
      step.feed({ users: us, items: is, rating: r });
      opt.prepare(step);
      step.run();
      if (t % o.logEvery === 0 || t === o.steps) {
        const since = t % o.logEvery || o.logEvery;
        const entry = { step: t, loss: (await metrics.read(step, ring, since, t)).loss };
        history.push(entry);
        log(entry);
      }
    }
    return history;
  } finally {
    ring.destroy();
    step.destroy();
  }
}
