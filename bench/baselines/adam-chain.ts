// The bench's baseline for the fused Adam: the update as TensorFlow.js runs it, 14 element-wise
// dispatches per tensor through two temporaries (bench/baselines/adam-chain.wgsl), and its
// float64 reference. Same result as Adam within f32 rounding; weight decay is ignored.
import source from './adam-chain.wgsl';
import type { BufferScope } from '../../src/gpu/buffers.ts';
import type { Gpu } from '../../src/gpu/context.ts';
import { ADAM_STEP_BYTES, adamScalars, checkWg, DEFAULT_WG, type AdamHyper, type AdamRefState, type AdamScalars } from '../../src/kernels/adam.ts';
import { checkInteger, grid1d, type Dispatch } from '../../src/kernels/kernel.ts';
import { Kernel, type EntrySpec } from '../../src/kernels/spec.ts';

// The chain's ops and the AdamStep word each scalar op reads (see adam-chain.wgsl).
const OP = { scale: 0, add: 1, sub: 2, mul: 3, div: 4, sqrt: 5, divScalar: 6, addScalar: 7 } as const;
const WORD = { beta1: 0, oneMinusBeta1: 1, beta2: 2, oneMinusBeta2: 3, eps: 4, lr: 9, bc1: 10, bc2: 11 } as const;

type Slot = 'param' | 'grad' | 'm' | 'v' | 't1' | 't2';
interface ChainStep {
  op: keyof typeof OP;
  out: Slot;
  a: Slot;
  b?: Slot;
  scalar?: keyof typeof WORD;
}

/** TensorFlow.js's AdamOptimizer.applyGradients, one element-wise kernel per op. */
const CHAIN: readonly ChainStep[] = [
  { op: 'scale', out: 'm', a: 'm', scalar: 'beta1' },
  { op: 'scale', out: 't1', a: 'grad', scalar: 'oneMinusBeta1' },
  { op: 'add', out: 'm', a: 'm', b: 't1' },
  { op: 'mul', out: 't1', a: 'grad', b: 'grad' },
  { op: 'scale', out: 'v', a: 'v', scalar: 'beta2' },
  { op: 'scale', out: 't1', a: 't1', scalar: 'oneMinusBeta2' },
  { op: 'add', out: 'v', a: 'v', b: 't1' },
  { op: 'divScalar', out: 't1', a: 'm', scalar: 'bc1' },
  { op: 'divScalar', out: 't2', a: 'v', scalar: 'bc2' },
  { op: 'sqrt', out: 't2', a: 't2' },
  { op: 'addScalar', out: 't2', a: 't2', scalar: 'eps' },
  { op: 'div', out: 't1', a: 't1', b: 't2' },
  { op: 'scale', out: 't1', a: 't1', scalar: 'lr' },
  { op: 'sub', out: 'param', a: 'param', b: 't1' },
];

/** The 14 dispatches over one parameter tensor of n elements; param, m and v updated in place. */
export class AdamChain {
  static readonly kernel = 'adam_chain';

  private constructor(
    private readonly kernels: readonly Kernel<string>[],
    private readonly temps: { t1: GPUBuffer; t2: GPUBuffer },
  ) {}

  static async create(gpu: Gpu, shape: { n: number }, opts: { wg?: number } = {}, scope: BufferScope = gpu.buffers): Promise<AdamChain> {
    const kernel = AdamChain.kernel;
    const { n } = shape;
    checkInteger(kernel, 'n (elements of the parameter tensor)', n, 1);
    const wg = opts.wg ?? DEFAULT_WG;
    checkWg(gpu, kernel, wg);
    const common = { kernel, source, params: { cp: [n, 0, 0, 0] }, shape: `[${n}]`, grid: grid1d(gpu, n, wg) };
    const kernels = await Promise.all(
      CHAIN.map((s) => {
        const constants = { WG: wg, OP: OP[s.op], SCALAR: s.scalar ? WORD[s.scalar] : 0 };
        const spec: EntrySpec<string> =
          s.out === s.a
            ? { ...common, entry: 'chain_op_inplace', constants, sizes: { step_words: ADAM_STEP_BYTES, xs: n * 4, ys: n * 4 } }
            : { ...common, entry: 'chain_op', constants, sizes: { step_words: ADAM_STEP_BYTES, a: n * 4, b: n * 4, out: n * 4 } };
        return Kernel.create(gpu, spec, scope);
      }),
    );
    return new AdamChain(kernels, { t1: scope.create(`${kernel}.t1`, n * 4), t2: scope.create(`${kernel}.t2`, n * 4) });
  }

  bind(b: { step: GPUBuffer; param: GPUBuffer; grad: GPUBuffer; m: GPUBuffer; v: GPUBuffer }): Dispatch[] {
    const bufs: Record<Slot, GPUBuffer> = { param: b.param, grad: b.grad, m: b.m, v: b.v, ...this.temps };
    // Ops without a second operand still bind one (the entry points read it whatever OP is):
    // a itself out of place, the gradient (never written) in place.
    return CHAIN.map((s, i) => {
      const d = this.kernels[i].bind(
        s.out === s.a
          ? { step_words: b.step, xs: bufs[s.a], ys: bufs[s.b ?? 'grad'] }
          : { step_words: b.step, a: bufs[s.a], b: bufs[s.b ?? s.a], out: bufs[s.out] },
      );
      return { ...d, label: `${AdamChain.kernel}.${i}.${s.op}` };
    });
  }
}

/**
 * TensorFlow.js's Adam arithmetic, which the chain follows (no weight decay):
 * m = m b1 + g (1 - b1); v = v b2 + g^2 (1 - b2); p -= lr (m / bc1) / (sqrt(v / bc2) + eps).
 * `round`: Math.fround to emulate the shader's f32 op order.
 */
export function adamChainRef(s: AdamRefState, grad: ArrayLike<number>, t: number, hp: AdamHyper, round: (x: number) => number = (x) => x): void {
  const r = round;
  const c = adamScalars(t, hp);
  for (const k of Object.keys(c) as (keyof AdamScalars)[]) c[k] = r(c[k]);
  for (let i = 0; i < s.param.length; i++) {
    const g = grad[i];
    const m = r(r(s.m[i] * c.beta1) + r(g * c.oneMinusBeta1));
    const v = r(r(s.v[i] * c.beta2) + r(r(g * g) * c.oneMinusBeta2));
    const u = r(r(r(m / c.bc1) / r(r(Math.sqrt(r(v / c.bc2))) + c.eps)) * c.lr);
    s.m[i] = m;
    s.v[i] = v;
    s.param[i] = r(s.param[i] - u);
  }
}
