// The fused last layer + MSE: the kernel against its float64 reference, and the graph pass
// that puts it in place of dense() then mseLoss() and their reverse mode, bit for bit.
import { describe, expect, it } from 'vitest';
import { gradients } from '../src/graph/autodiff.ts';
import { Graph, type Tensor } from '../src/graph/graph.ts';
import { mseLoss } from '../src/graph/ops/loss.ts';
import { dense } from '../src/graph/ops/matmul.ts';
import { optimize, PASSES } from '../src/graph/passes.ts';
import { DenseMse, denseMseRef } from '../src/kernels/dense-mse.ts';
import { KernelError } from '../src/kernels/kernel.ts';
import { Rng } from '../src/random.ts';
import { expectClose, expectSameBits } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

function data(rows: number, hidden: number, seed: number) {
  const rng = new Rng(seed);
  const u = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * s);
  return { h: u(rows * hidden, 1), w: u(hidden, 0.5), b: u(1, 0.3), target: Float32Array.from({ length: rows }, () => 1 + rng.int(5)) };
}

/** Runs the kernel's two passes on x; every output as read back (dhSum only with dhSums). */
async function runDenseMse(shape: { rows: number; hidden: number }, x: ReturnType<typeof data>, scale: number, opts: { relu?: boolean; dhSums?: boolean } = {}) {
  const { rows, hidden } = shape;
  const outs = await t.run(async (scope) => {
    const k = await DenseMse.create(t.gpu, shape, opts, scope);
    const o = { loss: scope.create('loss', rows * 4), g: scope.create('g', rows * 4), dh: scope.create('dh', rows * hidden * 4), dw: scope.create('dw', hidden * 4), db: scope.create('db', 4) };
    const dhSum = opts.dhSums ? scope.create('dhSum', hidden * 4) : undefined;
    const ins = { scale: scope.upload('scale', new Float32Array([scale])), h: scope.upload('h', x.h), w: scope.upload('w', x.w), bias: scope.upload('b', x.b), target: scope.upload('t', x.target) };
    const read: [GPUBuffer, number][] = [[o.loss, rows], [o.g, rows], [o.dh, rows * hidden], [o.dw, hidden], [o.db, 1], ...(dhSum ? [[dhSum, hidden] as [GPUBuffer, number]] : [])];
    return { dispatches: k.bind({ ...ins, ...o, ...(dhSum ? { dhSum } : {}) }), outputs: read };
  });
  const [loss, g, dh, dw, db, dhSumOut] = outs;
  return { loss, g, dh, dw, db, dhSum: dhSumOut };
}

describe('dense_mse kernel', () => {
  // 150 rows span three workgroups with a ragged tail; 13 columns plus the bias thread.
  it('matches the float64 reference: loss, dL/dpred, dh, dw, db', async () => {
    const shape = { rows: 150, hidden: 13 };
    const x = data(shape.rows, shape.hidden, 3);
    const scale = 0.7 / shape.rows;
    const { loss, g, dh, dw, db } = await runDenseMse(shape, x, scale);
    const ref = denseMseRef(x.h, x.w, x.b[0], x.target, shape, scale);
    // 13-term f32 dot products of order 1, then squared: a few ulps of order 1e-6 relative.
    const tol = { atol: 1e-6, rtol: 1e-5 };
    expectClose(loss, ref.loss, tol, 'loss');
    expectClose(g, ref.g, tol, 'g');
    expectClose(dh, ref.dh, tol, 'dh');
    expectClose(dw, ref.dw, { atol: 1e-5, rtol: 1e-5 }, 'dw'); // 150-term sums
    expectClose(db, [ref.db], { atol: 1e-5, rtol: 1e-5 }, 'db');
  });

  // dhSums: dh's column sums written by the columns pass, in bias_grad's chunks of 64 rows
  // (150 rows: three chunks; 13 columns: three threads of four and a ragged one).
  it('with dhSums: sums dh over rows, as bias_grad would, with and without relu', async () => {
    const shape = { rows: 150, hidden: 13 };
    const x = data(shape.rows, shape.hidden, 8);
    const scale = 0.3 / shape.rows;
    for (const relu of [false, true]) {
      const { dh, dhSum: sums } = await runDenseMse(shape, x, scale, { relu, dhSums: true });
      const ref = denseMseRef(x.h, x.w, x.b[0], x.target, shape, scale, relu);
      expectClose(sums, ref.dhSum, { atol: 1e-6, rtol: 1e-5 }, `dhSum relu=${relu}`);
      // The f32 sums in bias_grad's order, from the kernel's own dh: exactly what it wrote.
      const want = new Float32Array(shape.hidden);
      for (let j = 0; j < shape.hidden; j++) {
        let sum = 0;
        for (let c0 = 0; c0 < shape.rows; c0 += 64) {
          let part = 0;
          for (let r = c0; r < Math.min(shape.rows, c0 + 64); r++) part = Math.fround(part + dh[r * shape.hidden + j]);
          sum = Math.fround(sum + part);
        }
        want[j] = sum;
      }
      expectSameBits(sums, want, `dhSum order, relu=${relu}`);
    }
  });

  it('with relu: takes h = max(z, 0) and writes dz = dh where z > 0', async () => {
    const shape = { rows: 70, hidden: 11 };
    const x = data(shape.rows, shape.hidden, 5); // h in [-1, 1]: about half the z are negative
    const scale = 1 / shape.rows;
    const { loss, dh: dz, dw, db } = await runDenseMse(shape, x, scale, { relu: true });
    const ref = denseMseRef(x.h, x.w, x.b[0], x.target, shape, scale, true);
    expect(ref.dh.filter((v) => v === 0).length).toBeGreaterThan(shape.rows * 3); // the mask bites
    const tol = { atol: 1e-5, rtol: 1e-5 };
    expectClose(loss, ref.loss, tol, 'loss');
    expectClose(dz, ref.dh, tol, 'dz');
    expectClose(dw, ref.dw, tol, 'dw');
    expectClose(db, [ref.db], tol, 'db');
  });

  // Threads take 4 rows and 4 columns: whole blocks only (64 x 8), fewer columns than one
  // block (3), and a ragged last row and column thread (9 x 6), with and without relu.
  for (const [rows, hidden, relu] of [[64, 8, true], [8, 3, false], [9, 6, true], [5, 1, false]] as const) {
    it(`matches the float64 reference at ${rows} x ${hidden}${relu ? ' with relu' : ''}`, async () => {
      const shape = { rows, hidden };
      const x = data(rows, hidden, 7 + rows);
      const scale = 0.9 / rows;
      const out = await runDenseMse(shape, x, scale, { relu });
      const ref = denseMseRef(x.h, x.w, x.b[0], x.target, shape, scale, relu);
      const tol = { atol: 1e-5, rtol: 1e-5 };
      expectClose(out.loss, ref.loss, tol, 'loss');
      expectClose(out.g, ref.g, tol, 'g');
      expectClose(out.dh, ref.dh, tol, 'dh');
      expectClose(out.dw, ref.dw, tol, 'dw');
      expectClose(out.db, [ref.db], tol, 'db');
    });
  }

  it('rejects bad shapes and buffers, naming the kernel', async () => {
    await expect(DenseMse.create(t.gpu, { rows: 0, hidden: 4 })).rejects.toThrow(KernelError);
    const scope = t.gpu.buffers.scope();
    try {
      const k = await DenseMse.create(t.gpu, { rows: 4, hidden: 3 }, {}, scope);
      const b = (n: number): GPUBuffer => scope.create('x', n * 4);
      expect(() => k.bind({ scale: b(1), h: b(11), w: b(3), bias: b(1), target: b(4), loss: b(4), g: b(4), dh: b(12), dw: b(3), db: b(1) })).toThrow(/dense_mse: .*h/);
    } finally {
      scope.destroy();
    }
  });
});

describe('dense layer and MSE pass', () => {
  const RULE = 'dense layer and MSE as dense_mse_loss';

  // The same plain graph compiled as written and through the passes. 150 rows span three
  // chunks of the bias gradient's sum, which the fused op follows, so every sum runs in the
  // same order and the bits agree.
  it('fuses mseLoss(dense()) and its gradients, with the bits of the unfused graph', async () => {
    const [rows, hidden] = [150, 9];
    const x = data(rows, hidden, 4);
    const build = () => {
      const g = new Graph();
      const h = g.param('h', [rows, hidden], x.h);
      const w = g.param('w', [hidden, 1], x.w);
      const b = g.param('b', [1], x.b);
      const loss = g.keep(mseLoss(g, dense(g, h, w, b, 'none'), g.input('target', [rows], 'f32'), 0.3));
      const grads = gradients(g, [loss], [h, w, b]);
      return { g, read: [loss, ...[h, w, b].map((p) => g.keep(grads.get(p)!))] };
    };
    const plain = build();
    const fused = build();
    expect(optimize(fused.g, [PASSES[0]]).get(RULE), 'fired').toBe(1);
    // One fused node in place of the layer, the loss and the three gradient nodes.
    expect(fused.g.nodes.map((n) => n.op.name)).toEqual(['dense_mse_loss']);
    const a = await t.runGraph(plain.g, { target: x.target }, plain.read, { passes: [] });
    const b = await t.runGraph(fused.g, { target: x.target }, fused.read, { passes: [] });
    ['loss', 'dh', 'dw', 'db'].forEach((what, i) => expectSameBits(b[i], a[i], what));
  });

  // The last hidden layer's ReLU moves into the fused op: that layer computes z without
  // activation, and every gradient down to its input keeps its bits; the next rule then folds
  // its bias gradient into the fused op's columns pass.
  it('takes the ReLU of the layer before, and every gradient keeps its bits', async () => {
    const [rows, inputs, hidden] = [90, 6, 13];
    const rng = new Rng(6);
    const u = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * s);
    const init = { x: u(rows * inputs, 1), w0: u(inputs * hidden, 0.6), b0: u(hidden, 0.3), w: u(hidden, 0.5), b: u(1, 0.3) };
    const target = Float32Array.from({ length: rows }, () => 1 + rng.int(5));
    const build = () => {
      const g = new Graph();
      const [x, w0, b0] = [g.param('x', [rows, inputs], init.x), g.param('w0', [inputs, hidden], init.w0), g.param('b0', [hidden], init.b0)];
      const [w, b] = [g.param('w', [hidden, 1], init.w), g.param('b', [1], init.b)];
      const loss = g.keep(mseLoss(g, dense(g, dense(g, x, w0, b0, 'relu'), w, b, 'none'), g.input('target', [rows], 'f32'), 0.4));
      const params = [x, w0, b0, w, b];
      const grads = gradients(g, [loss], params);
      return { g, read: [loss, ...params.map((p) => g.keep(grads.get(p)!))] };
    };
    const plain = build();
    const fused = build();
    expect(optimize(fused.g, [PASSES[0]]).get(RULE), 'fired').toBe(1);
    const names = fused.g.nodes.map((n) => n.op.name);
    expect(names).toContain('dense_mse_loss');
    for (const gone of ['mse_loss', 'act_backward']) expect(names).not.toContain(gone);
    expect(fused.g.nodes[0].attrs, 'the layer before stops at z').toMatchObject({ activation: 'none' });
    const folded = build();
    const fired = optimize(folded.g);
    expect([fired.get(RULE), fired.get('input bias gradient into dense_mse_loss')]).toEqual([1, 1]);
    expect(folded.g.nodes.map((n) => n.op.name)).not.toContain('bias_grad');
    const feed = { target };
    const a = await t.runGraph(plain.g, feed, plain.read, { passes: [] });
    const b = await t.runGraph(fused.g, feed, fused.read, { passes: [] });
    const c = await t.runGraph(folded.g, feed, folded.read, { passes: [] });
    ['loss', 'dx', 'dw0', 'db0', 'dw', 'db'].forEach((what, i) => {
      expectSameBits(b[i], a[i], what);
      expectSameBits(c[i], a[i], `${what} with the bias gradient folded`);
    });
  });

  it('leaves the graphs the fused op does not fit', () => {
    const variants: Record<string, (g: Graph, h: Tensor, target: Tensor) => Tensor> = {
      'two outputs': (g, h) => mseLoss(g, dense(g, h, g.param('w', [3, 2], new Float32Array(6)), g.param('b', [2], new Float32Array(2))), g.input('t2', [4, 2], 'f32')),
      'no bias': (g, h, target) => mseLoss(g, dense(g, h, g.param('w', [3, 1], new Float32Array(3)), undefined), target),
      'an activation on the output': (g, h, target) => mseLoss(g, dense(g, h, g.param('w', [3, 1], new Float32Array(3)), g.param('b', [1], new Float32Array(1)), 'sigmoid'), target),
      'a mask': (g, h, target) => mseLoss(g, out(g, h), target, 1, { mask: g.input('mask', [4], 'f32') }),
      'per-element weights': (g, h, target) => mseLoss(g, out(g, h), target, 1, { weights: g.input('weights', [4], 'f32') }),
      'another divisor': (g, h, target) => mseLoss(g, out(g, h), target, 1, { divisor: 2 }),
      'a prediction read back': (g, h, target) => mseLoss(g, g.keep(out(g, h)), target),
    };
    function out(g: Graph, h: Tensor): Tensor {
      return dense(g, h, g.param('w', [3, 1], new Float32Array(3)), g.param('b', [1], new Float32Array(1)));
    }
    for (const [what, loss] of Object.entries(variants)) {
      const g = new Graph();
      const h = g.param('h', [4, 3], new Float32Array(12));
      const l = loss(g, h, g.input('target', [4], 'f32'));
      gradients(g, [l], g.params);
      expect(optimize(g, [PASSES[0]]).get(RULE), what).toBe(0);
    }
    // No gradients (the loss is only measured): nothing to fuse them with.
    const g = new Graph();
    const pred = out(g, g.param('h', [4, 3], new Float32Array(12)));
    mseLoss(g, pred, g.input('target', [4], 'f32'));
    expect(optimize(g, [PASSES[0]]).get(RULE), 'forward only').toBe(0);
    // A loss weight that is not a finite number >= 0 is refused when the loss is written.
    expect(() => mseLoss(g, pred, g.input('t3', [4], 'f32'), -1)).toThrow(/weight must be a finite number >= 0/);
  });
});
