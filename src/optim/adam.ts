// Adam over parameter tensors as update ops at the end of the step. The step scalars (lr,
// bias corrections) live in one uniform the host rewrites before each step.
import { ADAM_STEP_BYTES, Adam as AdamKernel, adamStepWords, type AdamHyper } from '../kernels/adam.ts';
import type { CompiledStep } from '../graph/compile.ts';
import type { Graph } from '../graph/graph.ts';
import type { OpKind } from '../graph/node.ts';
import type { Tensor } from '../graph/tensor.ts';

interface UpdateAttrs {
  uniform: string;
  decoupled: boolean;
}

const adamUpdateOp: OpKind<UpdateAttrs> = {
  name: 'adam_update',
  outputs() {
    return [];
  },
  async lower(ctx, node) {
    const [param, grad, m, v] = node.inputs;
    const k = await AdamKernel.create(ctx.gpu, { n: param.size }, { decoupled: node.attrs.decoupled }, ctx.scope);
    const step = ctx.uniform(node.attrs.uniform, ADAM_STEP_BYTES);
    return [k.bind({ step, param: ctx.buffer(param), grad: ctx.buffer(grad), m: ctx.buffer(m), v: ctx.buffer(v) })];
  },
};

export interface AdamConfig extends AdamHyper {
  /** AdamW: decoupled weight decay. */
  decoupled?: boolean;
}

export class AdamOptimizer {
  private t = 0;
  private readonly words: Float32Array<ArrayBuffer>;
  readonly moments: Tensor[] = [];

  /** Adds the update of every parameter in `grads` to `g`, with moments as state tensors. */
  constructor(
    g: Graph,
    grads: ReadonlyMap<Tensor, Tensor>,
    private readonly config: AdamConfig,
    private readonly uniform = 'adam',
  ) {
    this.words = new Float32Array(adamStepWords(1, config)); // validates the hyper-parameters now
    g.inPhase('update', () => {
      for (const [p, d] of grads) {
        const m = g.state(`${p.name}.adam_m`, p.shape);
        const v = g.state(`${p.name}.adam_v`, p.shape);
        this.moments.push(m, v);
        g.apply(adamUpdateOp, [p, d, m, v], { uniform, decoupled: !!config.decoupled });
      }
    });
  }

  get step(): number {
    return this.t;
  }

  /** Restores the step count from a checkpoint. */
  set step(t: number) {
    this.t = t;
  }

  /** Writes step t+1's scalars; call before each run of the step. `lr` overrides the schedule. */
  prepare(step: CompiledStep, lr = this.config.lr): void {
    this.t += 1;
    adamStepWords(this.t, { ...this.config, lr }, this.words);
    step.writeUniform(this.uniform, this.words);
  }
}
