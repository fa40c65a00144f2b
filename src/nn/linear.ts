// Dense layers: Linear (act(x·W + b), W stored [in, out] — the checkpoint layout) and MLP, a
// stack of them with an activation between layers.
import { GraphError, type Graph, type Tensor } from '../graph/graph.ts';
import { dense } from '../graph/ops/matmul.ts';
import type { Activation } from '../kernels/matmul-ref.ts';
import type { Rng } from '../random.ts';
import { linearInit, type Init } from './init.ts';
import { Module, type Parameter } from './module.ts';

export interface LinearOptions {
  /** Default true. */
  bias?: boolean;
  /** The weight's initialiser; default PyTorch's uniform(±1/√in). */
  init?: Init;
  /** The bias's; default PyTorch's uniform(±1/√in) (the weight's fan-in). */
  biasInit?: Init;
}

/** y = act(x·W + b) for x [rows, in]: parameters `weight` [in, out] and `bias` [out], drawn in that order. */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(
    rng: Rng,
    readonly inFeatures: number,
    readonly outFeatures: number,
    o: LinearOptions = {},
  ) {
    super();
    const shape = [inFeatures, outFeatures];
    this.weight = this.param('weight', shape, o.init ? o.init(rng, shape) : linearInit(rng, inFeatures, inFeatures * outFeatures));
    this.bias = o.bias === false ? null : this.param('bias', [outFeatures], o.biasInit ? o.biasInit(rng, [outFeatures]) : linearInit(rng, inFeatures, outFeatures));
  }

  /** act(x·W + b): one dispatch forward (the activation is the matmul's epilogue). */
  forward(g: Graph, x: Tensor, activation: Activation = 'none'): Tensor {
    return dense(g, x, this.weight.on(g), this.bias?.on(g), activation);
  }
}

export interface MlpOptions extends LinearOptions {
  /** Between layers; default relu. */
  activation?: Activation;
  /** After the last layer; default none. */
  lastActivation?: Activation;
}

/** Linear layers `0`, `1`, … over widths [in, hidden…, out]. */
export class MLP extends Module {
  readonly layers: Linear[] = [];
  readonly activation: Activation;
  readonly lastActivation: Activation;

  constructor(rng: Rng, widths: readonly number[], o: MlpOptions = {}) {
    super();
    if (widths.length < 2) throw new GraphError(`an MLP needs at least an input and an output width, got [${widths.join(', ')}]`);
    for (let l = 0; l + 1 < widths.length; l++) this.layers.push(this.module(String(l), new Linear(rng, widths[l], widths[l + 1], o)));
    this.activation = o.activation ?? 'relu';
    this.lastActivation = o.lastActivation ?? 'none';
  }

  forward(g: Graph, x: Tensor): Tensor {
    return this.layers.reduce((h, layer, l) => layer.forward(g, h, l + 1 < this.layers.length ? this.activation : this.lastActivation), x);
  }
}
