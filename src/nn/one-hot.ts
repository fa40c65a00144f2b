// A dense layer over [one-hot categorical fields, continuous columns] — what Keras and PyTorch
// multi-task projects feed their first layer — without the one-hot vector: its product with the
// weight is the sum of one weight row per field (an embedding bag over one packed table), plus
// the continuous columns' product. The same numbers at the cost of the fields, not the
// vocabulary; the weight is the one-hot Linear's, drawn as PyTorch would (uniform ±1/√fan_in
// with fan_in = the one-hot width plus the continuous columns).
import { GraphError, type Graph, type Tensor } from '../graph/graph.ts';
import { add } from '../graph/ops/basic.ts';
import { activate } from '../graph/ops/matmul.ts';
import type { Activation } from '../kernels/matmul-ref.ts';
import type { Rng } from '../random.ts';
import { FieldEmbeddings, type Field } from './embedding.ts';
import { init } from './init.ts';
import { Linear } from './linear.ts';
import { Module, type Parameter } from './module.ts';

export class OneHotLinear extends Module {
  /** The one-hot rows of the weight, one packed table `fields.table` [Σ vocabulary, width]; null without categorical fields. */
  readonly fields: FieldEmbeddings | null;
  /** The continuous columns' rows of the weight and the bias; without continuous columns the bias alone. */
  readonly continuous: Linear | null;
  readonly bias: Bias | null;

  constructor(
    rng: Rng,
    readonly categorical: readonly Field[],
    readonly continuousColumns: number,
    readonly width: number,
  ) {
    super();
    if (categorical.length === 0 && continuousColumns === 0) throw new GraphError('a one-hot layer needs at least one categorical field or continuous column');
    const fanIn = categorical.reduce((n, f) => n + f.vocabulary, 0) + continuousColumns;
    const bound = 1 / Math.sqrt(fanIn);
    this.fields = categorical.length ? this.module('fields', new FieldEmbeddings(rng, categorical, width, { tables: 'packed', combine: 'sum', init: init.uniform(bound) })) : null;
    if (continuousColumns > 0) {
      this.continuous = this.module('continuous', new Linear(rng, continuousColumns, width, { init: init.uniform(bound), biasInit: init.uniform(bound) }));
      this.bias = null;
    } else {
      this.continuous = null;
      this.bias = this.module('bias', new Bias(rng, width, bound));
    }
  }

  /** act(onehot(categorical)·W_c + continuous·W_x + b): u32 [rows, fields] and f32 [rows, columns] host inputs (either may be absent when the layer has none). */
  forward(g: Graph, categorical: Tensor | null, continuous: Tensor | null, activation: Activation = 'none'): Tensor {
    if (!!this.fields !== !!categorical || !!this.continuous !== !!continuous) {
      throw new GraphError(`a one-hot layer over ${this.categorical.length} fields and ${this.continuousColumns} continuous columns needs exactly those inputs`);
    }
    // Without fields the activation is the matmul's epilogue (one dispatch); without continuous
    // columns the bias rides in the embedding bag's dispatch.
    if (!this.fields) return (this.continuous as Linear).forward(g, continuous as Tensor, activation);
    if (!this.continuous) return activate(g, this.fields.forward(g, categorical as Tensor, (this.bias as Bias).value.on(g)), activation);
    return activate(g, add(g, this.fields.forward(g, categorical as Tensor), this.continuous.forward(g, continuous as Tensor)), activation);
  }
}

/** A lone bias vector (the one-hot layer's, when it has no continuous columns to carry it). */
class Bias extends Module {
  readonly value: Parameter;
  constructor(rng: Rng, width: number, bound: number) {
    super();
    this.value = this.param('', [width], init.uniform(bound)(rng, [width]));
  }
}
