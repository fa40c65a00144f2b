// The multi-task architectures as modules. Each maps a batch's features to one output per task
// ([rows, 1]: a logit for a binary task, the value for a regression task), except ESMM, whose
// second output is the CVR logit that the loss and predictions combine with the CTR's.
//   single         one network per task: one-hot layer (bottom) → tower → output
//   shared-bottom  one shared one-hot layer, one tower per task
//   omoe / mmoe    ReLU experts over the input; one softmax gate (OMoE) or one per task (MMoE)
//                  weighs them; each task's tower reads its gate's mixture (Ma et al., KDD 2018)
//   esmm           CTR and CVR towers over shared field embeddings (Ma et al., SIGIR 2018)
//   aux            a shared linear layer is the auxiliary regression output; the main task is
//                  a logistic regression over [that output, its private columns]
import type { Graph, Tensor } from '../../graph/graph.ts';
import { concat } from '../../graph/ops/elementwise.ts';
import { gateMix } from '../../graph/ops/gate-mix.ts';
import { splitColumns } from '../../graph/ops/elementwise.ts';
import { FieldEmbeddings, type Field } from '../../nn/embedding.ts';
import { init } from '../../nn/init.ts';
import { Linear, MLP } from '../../nn/linear.ts';
import { Module } from '../../nn/module.ts';
import { OneHotLinear } from '../../nn/one-hot.ts';
import type { Rng } from '../../random.ts';
import type { MultitaskConfig } from './config.ts';

/** A batch's host inputs: categorical u32 [rows, fields], shared continuous f32 [rows, columns], the main task's private columns (aux). */
export interface Features {
  categorical: Tensor | null;
  continuous: Tensor | null;
  private: Tensor | null;
}

/** How a hidden activation is treated while training (dropout) or not (identity). */
export type Hidden = (g: Graph, h: Tensor) => Tensor;

/** What every architecture's input looks like. */
export interface InputShape {
  fields: Field[];
  continuous: number;
  /** The aux model's private columns of the main task. */
  private: number;
}

export abstract class MultitaskNet extends Module {
  /** One [rows, 1] output per task. */
  abstract outputs(g: Graph, x: Features, hidden: Hidden): Tensor[];
}

/** A task's head: Linear → ReLU → Linear to one output (tower units wide). */
function tower(rng: Rng, inWidth: number, units: number): MLP {
  return new MLP(rng, [inWidth, units, 1]);
}

function towerForward(g: Graph, t: MLP, x: Tensor, hidden: Hidden): Tensor {
  const [first, out] = t.layers;
  return out.forward(g, hidden(g, first.forward(g, x, 'relu')));
}

class SingleTask extends Module {
  readonly bottom: OneHotLinear;
  readonly tower: MLP | null;

  constructor(rng: Rng, s: InputShape, c: MultitaskConfig) {
    super();
    // bottom_units 0: a linear (logistic) model, the one-hot layer straight to the output.
    this.bottom = this.module('bottom', new OneHotLinear(rng, s.fields, s.continuous, c.bottomUnits || 1));
    this.tower = c.bottomUnits ? this.module('tower', tower(rng, c.bottomUnits, c.towerUnits)) : null;
  }

  forward(g: Graph, x: Features, hidden: Hidden): Tensor {
    if (!this.tower) return this.bottom.forward(g, x.categorical, x.continuous);
    return towerForward(g, this.tower, hidden(g, this.bottom.forward(g, x.categorical, x.continuous, 'relu')), hidden);
  }
}

/** One network per task, named by the task. */
export class Single extends MultitaskNet {
  readonly nets: SingleTask[];
  constructor(rng: Rng, s: InputShape, c: MultitaskConfig, tasks: readonly string[]) {
    super();
    this.nets = tasks.map((t) => this.module(`task_${t}`, new SingleTask(rng, s, c)));
  }
  outputs(g: Graph, x: Features, hidden: Hidden): Tensor[] {
    return this.nets.map((n) => n.forward(g, x, hidden));
  }
}

export class SharedBottom extends MultitaskNet {
  readonly bottom: OneHotLinear;
  readonly towers: MLP[];
  constructor(rng: Rng, s: InputShape, c: MultitaskConfig, tasks: readonly string[]) {
    super();
    this.bottom = this.module('bottom', new OneHotLinear(rng, s.fields, s.continuous, c.bottomUnits));
    this.towers = tasks.map((t) => this.module(`tower_${t}`, tower(rng, c.bottomUnits, c.towerUnits)));
  }
  outputs(g: Graph, x: Features, hidden: Hidden): Tensor[] {
    const h = hidden(g, this.bottom.forward(g, x.categorical, x.continuous, 'relu'));
    return this.towers.map((t) => towerForward(g, t, h, hidden));
  }
}

/** OMoE (one gate) and MMoE (a gate per task). The experts are one layer E·U wide: expert e is columns e·U … e·U+U-1. */
export class MixtureOfExperts extends MultitaskNet {
  readonly experts: OneHotLinear;
  readonly gates: OneHotLinear;
  readonly towers: MLP[];
  readonly gateCount: number;
  constructor(
    rng: Rng,
    s: InputShape,
    readonly c: MultitaskConfig,
    tasks: readonly string[],
    multiGate: boolean,
  ) {
    super();
    this.gateCount = multiGate ? tasks.length : 1;
    this.experts = this.module('experts', new OneHotLinear(rng, s.fields, s.continuous, c.experts * c.expertUnits));
    // Every gate's logits from one layer, split by gate.
    this.gates = this.module('gates', new OneHotLinear(rng, s.fields, s.continuous, this.gateCount * c.experts));
    this.towers = tasks.map((t) => this.module(`tower_${t}`, tower(rng, c.expertUnits, c.towerUnits)));
  }
  outputs(g: Graph, x: Features, hidden: Hidden): Tensor[] {
    const experts = hidden(g, this.experts.forward(g, x.categorical, x.continuous, 'relu'));
    const logits = this.gates.forward(g, x.categorical, x.continuous);
    const gates = this.gateCount === 1 ? [logits] : splitColumns(g, logits, Array(this.gateCount).fill(this.c.experts));
    return this.towers.map((t, i) => towerForward(g, t, gateMix(g, gates[this.gateCount === 1 ? 0 : i], experts), hidden));
  }
}

/** ESMM: outputs [CTR logit, CVR logit]; pCTCVR = σ(ctr)·σ(cvr) is formed by the loss and the predictions. */
export class Esmm extends MultitaskNet {
  readonly embeddings: FieldEmbeddings | null;
  readonly ctr: MLP;
  readonly cvr: MLP;
  constructor(rng: Rng, s: InputShape, c: MultitaskConfig) {
    super();
    this.embeddings = s.fields.length ? this.module('embeddings', new FieldEmbeddings(rng, s.fields, c.embeddingDim, { tables: 'packed', combine: 'concat', init: init.normal(0.01) })) : null;
    const width = s.fields.length * c.embeddingDim + s.continuous;
    this.ctr = this.module('ctr', new MLP(rng, [width, c.bottomUnits, c.towerUnits, 1]));
    this.cvr = this.module('cvr', new MLP(rng, [width, c.bottomUnits, c.towerUnits, 1]));
  }
  outputs(g: Graph, x: Features, hidden: Hidden): Tensor[] {
    const parts = [...(this.embeddings && x.categorical ? [this.embeddings.forward(g, x.categorical)] : []), ...(x.continuous ? [x.continuous] : [])];
    const input = parts.length === 1 ? parts[0] : concat(g, parts);
    const run = (m: MLP): Tensor => m.layers.reduce((h, layer, l) => (l + 1 < m.layers.length ? hidden(g, layer.forward(g, h, 'relu')) : layer.forward(g, h)), input);
    return [run(this.ctr), run(this.cvr)];
  }
}

/** The auxiliary-task model: outputs [main logit, auxiliary value]. */
export class AuxModel extends MultitaskNet {
  readonly shared: OneHotLinear;
  readonly main: Linear;
  constructor(rng: Rng, s: InputShape) {
    super();
    this.shared = this.module('shared', new OneHotLinear(rng, s.fields, s.continuous, 1));
    this.main = this.module('main', new Linear(rng, 1 + s.private, 1));
  }
  outputs(g: Graph, x: Features): Tensor[] {
    const aux = this.shared.forward(g, x.categorical, x.continuous);
    const main = this.main.forward(g, x.private ? concat(g, [aux, x.private]) : aux);
    return [main, aux];
  }
}

export function createNet(rng: Rng, s: InputShape, c: MultitaskConfig, tasks: readonly string[]): MultitaskNet {
  switch (c.model) {
    case 'single':
      return new Single(rng, s, c, tasks);
    case 'shared-bottom':
      return new SharedBottom(rng, s, c, tasks);
    case 'omoe':
      return new MixtureOfExperts(rng, s, c, tasks, false);
    case 'mmoe':
      return new MixtureOfExperts(rng, s, c, tasks, true);
    case 'esmm':
      return new Esmm(rng, s, c);
    case 'aux':
      return new AuxModel(rng, s);
  }
}
