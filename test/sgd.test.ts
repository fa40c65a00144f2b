// SGD (plain, momentum with dampening, Nesterov; weight decay) against float64 references, in Node and Chromium.
import { describe, expect, it } from 'vitest';
import { createSgdStepBuffer, sgd, sgdOptions, sgdRef, sgdStepWords, writeSgdStep, type SgdHyper } from '../src/kernels/sgd.ts';
import { KernelError, submitDispatches } from '../src/kernels/kernel.ts';
import { Kernel } from '../src/kernels/spec.ts';
import { Rng } from '../src/random.ts';
import { expectClose, expectSameBits } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

/** A per-step upload, as the engine does it (queue.writeBuffer). */
function write(buffer: GPUBuffer, data: Float32Array | Uint32Array): void {
  t.gpu.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
}

const normals = (rng: Rng, n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());

interface Result {
  param: Float32Array;
  buf: Float32Array;
}

/** Runs one SGD step per gradient (steps 1, 2, ...) on a fresh momentum buffer filled with junk. */
async function run(param: Float32Array, grads: Float32Array[], hp: SgdHyper, wg = 64): Promise<Result> {
  const { gpu, ring } = t;
  const n = param.length;
  const scope = gpu.buffers.scope();
  try {
    const opts = sgdOptions(hp);
    const k = await Kernel.create<string>(gpu, sgd(gpu, { n }, { ...opts, wg }), scope);
    const step = createSgdStepBuffer(scope);
    const p = scope.upload('param', param);
    const grad = scope.create('grad', n * 4);
    // Junk, not zeros: step 1 must overwrite the buffer without reading it.
    const buf = opts.momentum ? scope.upload('buf', new Float32Array(n).fill(1e30)) : undefined;
    const d = k.bind({ st: step, param: p, grad, ...(buf ? { buf } : {}) });
    grads.forEach((g, j) => {
      writeSgdStep(gpu, step, j + 1, hp);
      write(grad, g);
      submitDispatches(gpu, [d]);
    });
    return { param: await ring.readF32(p, n), buf: buf ? await ring.readF32(buf, n) : new Float32Array(0) };
  } finally {
    scope.destroy();
  }
}

function reference(param: Float32Array, grads: Float32Array[], hp: SgdHyper, round?: (x: number) => number): { param: Float64Array; buf: Float64Array } {
  const s = { param: Float64Array.from(param), buf: new Float64Array(param.length) };
  grads.forEach((g, j) => sgdRef(s, g, j + 1, hp, round));
  return s;
}

// 5 steps of lr 0.05 on N(0,1) values: a few f32 ulps of the float64 state, 1e-6 relative
// plus 1e-6 absolute (the momentum buffer grows to ~3 and cancels towards 0 in places).
const TOL64 = { atol: 1e-6, rtol: 1e-6 };
// Same op order in f32: at most an ulp from FMA contraction (identical bits on SwiftShader).
const TOL32 = { atol: 1e-7, rtol: 2.5e-7 };

describe('SGD', () => {
  const cases: [string, SgdHyper][] = [
    ['plain', { lr: 0.05 }],
    ['plain with weight decay', { lr: 0.05, weightDecay: 0.1 }],
    ['momentum with dampening and weight decay', { lr: 0.05, momentum: 0.9, dampening: 0.3, weightDecay: 0.01 }],
    ['Nesterov with weight decay', { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }],
  ];
  for (const [name, hp] of cases) {
    it(`${name}: 5 steps with changing gradients match float64 and the f32 op order`, async () => {
      const rng = new Rng(41);
      const n = 1001; // not a multiple of the workgroup
      const param = normals(rng, n);
      const grads = Array.from({ length: 5 }, () => normals(rng, n));
      const got = await run(param, grads, hp);
      const want = reference(param, grads, hp);
      const emu = reference(param, grads, hp, Math.fround);
      expectClose(got.param, want.param, TOL64, `${name}: param`);
      expectClose(got.param, emu.param, TOL32, `${name}: param vs f32 emulation`);
      if (hp.momentum) {
        expectClose(got.buf, want.buf, TOL64, `${name}: momentum buffer`);
        expectClose(got.buf, emu.buf, TOL32, `${name}: momentum buffer vs f32 emulation`);
      }
    });
  }

  it('sets the momentum buffer to the gradient on the first step, ignoring dampening', async () => {
    const param = new Float32Array([1, 2, 3]);
    const g = new Float32Array([0.5, -1, 2]);
    const got = await run(param, [g], { lr: 0.1, momentum: 0.9, dampening: 0.5 });
    expectSameBits(got.buf, g, 'buf after step 1');
    expectClose(got.param, [0.95, 2.1, 2.8], { atol: 0, rtol: 2e-7 }, 'param after step 1');
    // Step 2 then uses buf = 0.9 buf + 0.5 g: with the same gradient, 1.4 g.
    const two = await run(param, [g, g], { lr: 0.1, momentum: 0.9, dampening: 0.5 });
    expectClose(two.buf, [0.7, -1.4, 2.8], { atol: 0, rtol: 2e-7 }, 'buf after step 2');
  });

  it('handles one element', async () => {
    const got = await run(new Float32Array([1]), [new Float32Array([2])], { lr: 0.25 });
    expect(Array.from(got.param)).toEqual([0.5]);
  });

  it('gives identical bits on two runs', async () => {
    const rng = new Rng(42);
    const param = normals(rng, 513);
    const grads = Array.from({ length: 3 }, () => normals(rng, 513));
    const hp = { lr: 0.01, momentum: 0.9, nesterov: true };
    const a = await run(param, grads, hp, 256);
    const b = await run(param, grads, hp, 256);
    expectSameBits(a.param, b.param, 'param');
    expectSameBits(a.buf, b.buf, 'buf');
  });

  it('rejects bad shapes, buffers and hyper-parameters before any dispatch, naming the kernel', async () => {
    const { gpu } = t;
    expect(() => sgd(gpu, { n: 0 })).toThrow(/sgd: n \(elements of the parameter tensor\) must be an integer >= 1, got 0/);
    expect(() => sgd(gpu, { n: 4 }, { nesterov: true })).toThrow(/sgd: Nesterov momentum needs the momentum buffer/);
    expect(() => sgd(gpu, { n: 4 }, { wg: 100_000 })).toThrow(KernelError);
    expect(() => sgdStepWords(1, { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(
      /sgd_step: Nesterov momentum requires momentum > 0 and dampening 0/,
    );
    expect(() => sgdStepWords(0, { lr: 0.1 })).toThrow(/sgd_step: the step count must be an integer >= 1/);
    const scope = gpu.buffers.scope();
    try {
      const step = createSgdStepBuffer(scope);
      const [param, grad, buf] = ['param', 'grad', 'buf'].map((name) => scope.create(name, 40));
      const k = await Kernel.create<string>(gpu, sgd(gpu, { n: 10 }, { momentum: true }), scope);
      expect(() => k.bind({ st: step, param, grad })).toThrow(/sgd: buf is not bound; sgd_momentum needs it/);
      expect(() => k.bind({ st: step, param, grad: scope.create('g', 20), buf })).toThrow(/sgd: grad has 20 bytes but shape \[10\] needs 40/);
      expect(() => k.bind({ st: param, param: grad, grad: buf, buf: param })).toThrow(/sgd: st must be a UNIFORM buffer/);
      expect(() => k.bind({ st: step, param, grad: param, buf })).toThrow(/sgd: param and grad are the same buffer/);
      const plain = await Kernel.create<string>(gpu, sgd(gpu, { n: 10 }), scope);
      expect(() => plain.bind({ st: step, param, grad, buf })).toThrow(/sgd: buf is not a binding of sgd; bind only st, param, grad/);
    } finally {
      scope.destroy();
    }
  });
});
