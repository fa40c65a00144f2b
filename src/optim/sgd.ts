// SGD (with momentum, nesterov, weight decay: PyTorch's semantics) as update ops.
import { SGD_STEP_BYTES, sgd, sgdOptions, sgdStepWords, type SgdHyper } from '../kernels/sgd.ts';
import { Kernel } from '../kernels/spec.ts';
import type { CompiledStep } from '../graph/compile.ts';
import type { Graph, OpKind, Tensor } from '../graph/graph.ts';

interface Attrs {
  uniform: string;
  hp: SgdHyper;
}

const sgdUpdateOp: OpKind<Attrs> = {
  name: 'sgd_update',
  outputs() {
    return [];
  },
  async lower(ctx, node) {
    const [param, grad, buf] = node.inputs;
    const k = await Kernel.create<string>(ctx.gpu, sgd(ctx.gpu, { n: param.size }, sgdOptions(node.attrs.hp)), ctx.scope);
    const st = ctx.uniform(node.attrs.uniform, SGD_STEP_BYTES);
    return [k.bind({ st, param: ctx.buffer(param), grad: ctx.buffer(grad), ...(buf ? { buf: ctx.buffer(buf) } : {}) })];
  },
};

export class SgdOptimizer {
  private t = 0;

  constructor(
    g: Graph,
    grads: ReadonlyMap<Tensor, Tensor>,
    private readonly hp: SgdHyper,
    private readonly uniform = 'sgd',
  ) {
    sgdStepWords(1, hp); // validates the hyper-parameters now
    const momentum = sgdOptions(hp).momentum;
    g.inPhase('update', () => {
      for (const [p, d] of grads) {
        const inputs = momentum ? [p, d, g.state(`${p.name}.momentum`, p.shape)] : [p, d];
        g.apply(sgdUpdateOp, inputs, { uniform, hp });
      }
    });
  }

  get step(): number {
    return this.t;
  }

  set step(t: number) {
    this.t = t;
  }

  prepare(step: CompiledStep, lr = this.hp.lr): void {
    this.t += 1;
    step.writeUniform(this.uniform, new Uint32Array(sgdStepWords(this.t, { ...this.hp, lr })));
  }
}
