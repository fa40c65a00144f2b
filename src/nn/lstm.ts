// An LSTM layer over time-major sequences [T·B, in], with PyTorch's gates and one bias
// (PyTorch's b_ih + b_hh). Parameters `W_ih` [in, 4H], `W_hh` [H, 4H] (PyTorch's weights,
// transposed) and `b` [4H], drawn in that order.
import type { Graph, Tensor } from '../graph/graph.ts';
import { embeddingBag, type Bags } from '../graph/ops/embedding-bag.ts';
import { lstm, lstmRecurrent } from '../graph/ops/lstm.ts';
import type { Rng } from '../random.ts';
import { init, type Init } from './init.ts';
import { Module, type Parameter } from './module.ts';

export interface LstmOptions {
  /** Initialisers of W_ih, W_hh and b; default PyTorch's uniform(±1/√H) for each weight and each of its two biases. */
  inputInit?: Init;
  recurrentInit?: Init;
  biasInit?: Init;
}

/** Sequence layout: T steps of B rows each. */
export interface Steps {
  steps: number;
  batch: number;
}

export class LSTM extends Module {
  readonly inputWeight: Parameter;
  readonly recurrentWeight: Parameter;
  readonly bias: Parameter;

  constructor(
    rng: Rng,
    readonly inputSize: number,
    readonly hidden: number,
    o: LstmOptions = {},
  ) {
    super();
    const H = hidden;
    const uniform = init.uniform(1 / Math.sqrt(H));
    // PyTorch draws b_ih then b_hh and adds them at every step: here they are added once.
    const twoBiases: Init = (r, shape) => {
      const [bih, bhh] = [uniform(r, shape), uniform(r, shape)];
      return bih.map((v, i) => v + bhh[i]);
    };
    this.inputWeight = this.param('W_ih', [inputSize, 4 * H], (o.inputInit ?? uniform)(rng, [inputSize, 4 * H]));
    this.recurrentWeight = this.param('W_hh', [H, 4 * H], (o.recurrentInit ?? uniform)(rng, [H, 4 * H]));
    this.bias = this.param('b', [4 * H], (o.biasInit ?? twoBiases)(rng, [4 * H]));
  }

  /** h [T·B, H] over x [T·B, in], from a zero state. */
  forward(g: Graph, x: Tensor, s: Steps): Tensor {
    return lstm(g, x, this.inputWeight.on(g), this.recurrentWeight.on(g), this.bias.on(g), { ...s, hidden: this.hidden });
  }

  /**
   * The same for a 0/1 input given by each row's active columns: the input projection x·W_ih + b
   * is an embedding bag over W_ih's rows (a fraction of the matmul's work when x is sparse).
   */
  forwardBags(g: Graph, bags: Bags, s: Steps): Tensor {
    const gx = embeddingBag(g, this.inputWeight.on(g), bags, this.bias.on(g));
    return lstmRecurrent(g, gx, this.recurrentWeight.on(g), { ...s, hidden: this.hidden });
  }
}
