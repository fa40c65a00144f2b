// The smoke run: a tiny matrix factorization on synthetic ratings, trained on the GPU with
// the real kernels (gather, row dot, fused MSE, segmented scatter-add, Adam, tree sum). It
// proves an adapter can train: the loss must fall by orders of magnitude in a few hundred steps.
import type { Gpu } from '../gpu/context.ts';
import { StagingRing } from '../gpu/readback.ts';
import { createAdamStepBuffer, writeAdamStep, Adam } from '../kernels/adam.ts';
import { EmbeddingBackward, EmbeddingGather, csrWords, packSegments } from '../kernels/embedding.ts';
import { Fill } from '../kernels/fill.ts';
import { encodeDispatch, type Dispatch } from '../kernels/kernel.ts';
import { MseLoss } from '../kernels/losses.ts';
import { RowDot, RowDotBackward, Sum } from '../kernels/reduce.ts';
import { Rng } from '../random.ts';

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

export async function trainSmoke(gpu: Gpu, o: SmokeOptions, log: (l: SmokeLog) => void): Promise<SmokeLog[]> {
  const rng = new Rng(o.seed);
  // Ratings from hidden factors of the same dimension: a loss near 0 is reachable.
  const hiddenU = Float32Array.from({ length: o.users * o.dim }, () => rng.normal() / Math.sqrt(Math.sqrt(o.dim)));
  const hiddenQ = Float32Array.from({ length: o.items * o.dim }, () => rng.normal() / Math.sqrt(Math.sqrt(o.dim)));
  const rating = (u: number, i: number): number => {
    let s = 0;
    for (let d = 0; d < o.dim; d++) s += hiddenU[u * o.dim + d] * hiddenQ[i * o.dim + d];
    return s;
  };
  const scope = gpu.buffers.scope();
  const ring = new StagingRing(gpu);
  try {
    const b = o.batch;
    const uShape = { rows: o.users, dim: o.dim, n: b };
    const qShape = { rows: o.items, dim: o.dim, n: b };
    const param = (n: number, label: string): GPUBuffer => scope.upload(label, Float32Array.from({ length: n }, () => 0.1 * rng.normal()));
    const U = param(o.users * o.dim, 'U');
    const Q = param(o.items * o.dim, 'Q');
    const zeros = (n: number, label: string): GPUBuffer => scope.create(label, n * 4);
    const [mU, vU, mQ, vQ] = [zeros(U.size / 4, 'mU'), zeros(U.size / 4, 'vU'), zeros(Q.size / 4, 'mQ'), zeros(Q.size / 4, 'vQ')];
    const userIdx = zeros(b, 'users');
    const itemIdx = zeros(b, 'items');
    const userCsr = zeros(csrWords(uShape), 'users.csr');
    const itemCsr = zeros(csrWords(qShape), 'items.csr');
    const target = zeros(b, 'target');
    const [u, q, score, loss, dScore, du, dq, dU, dQ] = [b * o.dim, b * o.dim, b, b, b, b * o.dim, b * o.dim, o.users * o.dim, o.items * o.dim].map((n, k) => zeros(n, `v${k}`));
    const scale = scope.upload('scale', new Float32Array([1 / b]));
    const metrics = zeros(1, 'metrics');
    const step = createAdamStepBuffer(scope);

    const k = {
      gatherU: await EmbeddingGather.create(gpu, uShape, scope),
      gatherQ: await EmbeddingGather.create(gpu, qShape, scope),
      dot: await RowDot.create(gpu, { rows: b, cols: o.dim }, {}, scope),
      mse: await MseLoss.create(gpu, { n: b }, {}, scope),
      sum: await Sum.create(gpu, { n: b }, { accumulate: true }, scope),
      dotBack: await RowDotBackward.create(gpu, { rows: b, cols: o.dim }, {}, scope),
      zeroU: await Fill.create(gpu, o.users * o.dim, 0, scope),
      zeroQ: await Fill.create(gpu, o.items * o.dim, 0, scope),
      scatterU: await EmbeddingBackward.create(gpu, uShape, {}, scope),
      scatterQ: await EmbeddingBackward.create(gpu, qShape, {}, scope),
      adamU: await Adam.create(gpu, { n: o.users * o.dim }, {}, scope),
      adamQ: await Adam.create(gpu, { n: o.items * o.dim }, {}, scope),
    };
    // Bound once; every step replays the same dispatches.
    const program: Dispatch[] = [
      k.gatherU.bind({ table: U, indices: userIdx, out: u }),
      k.gatherQ.bind({ table: Q, indices: itemIdx, out: q }),
      k.dot.bind({ a: u, b: q, out: score }),
      k.mse.bind({ pred: score, target, scale, loss, grad: dScore }),
      ...k.sum.bind({ x: loss, dst: metrics }),
      ...k.dotBack.bind({ grad: dScore, a: u, b: q, gradA: du, gradB: dq }),
      k.zeroU.bind(dU),
      k.zeroQ.bind(dQ),
      k.scatterU.bind({ gradOut: du, csr: userCsr, gradTable: dU }),
      k.scatterQ.bind({ gradOut: dq, csr: itemCsr, gradTable: dQ }),
      k.adamU.bind({ step, param: U, grad: dU, m: mU, v: vU }),
      k.adamQ.bind({ step, param: Q, grad: dQ, m: mQ, v: vQ }),
    ];

    const q32 = gpu.device.queue;
    const write = (buf: GPUBuffer, data: Uint32Array | Float32Array): void => q32.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    const history: SmokeLog[] = [];
    for (let t = 1; t <= o.steps; t++) {
      const us = Uint32Array.from({ length: b }, () => rng.int(o.users));
      const is = Uint32Array.from({ length: b }, () => rng.int(o.items));
      write(userIdx, us);
      write(itemIdx, is);
      write(userCsr, packSegments(us, uShape));
      write(itemCsr, packSegments(is, qShape));
      write(target, Float32Array.from(us, (uu, j) => rating(uu, is[j])));
      writeAdamStep(gpu, step, t, { lr: o.lr });
      const encoder = gpu.device.createCommandEncoder({ label: 'smoke step' });
      const pass = encoder.beginComputePass();
      for (const d of program) encodeDispatch(pass, d);
      pass.end();
      gpu.device.queue.submit([encoder.finish()]);
      if (t % o.logEvery === 0 || t === o.steps) {
        const n = t % o.logEvery === 0 ? o.logEvery : t % o.logEvery;
        const [sum] = await ring.readF32(metrics, 1);
        write(metrics, new Float32Array([0]));
        const entry = { step: t, loss: sum / n };
        if (!Number.isFinite(entry.loss)) throw new Error(`the smoke run's loss became ${entry.loss} at step ${t}`);
        history.push(entry);
        log(entry);
      }
    }
    return history;
  } finally {
    ring.destroy();
    scope.destroy();
  }
}
