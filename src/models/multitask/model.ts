// The multi-task model as graphs: a training step (every task's loss, or one task's in
// alternating training, with each task's mean over the labels present in the batch), and an
// evaluation step that outputs every task's prediction. All share the weights by name.
import type { TabularData } from '../../data/tabular.ts';
import { gradients } from '../../graph/autodiff.ts';
import { Graph, type Tensor } from '../../graph/graph.ts';
import { Metrics } from '../../graph/metrics.ts';
import { dropout } from '../../graph/ops/dropout.ts';
import { concat, mul } from '../../graph/ops/elementwise.ts';
import { bceOnProduct, bceWithLogits, mseLoss } from '../../graph/ops/loss.ts';
import { activate } from '../../graph/ops/matmul.ts';
import { uncertaintyLoss } from '../../graph/ops/uncertainty.ts';
import { init } from '../../nn/init.ts';
import { Module, type Parameter } from '../../nn/module.ts';
import type { AdamOptimizer } from '../../optim/adam.ts';
import type { Rng } from '../../random.ts';
import { taskSpecs, taskWeights, type MultitaskConfig } from './config.ts';
import { createNet, type Features, type Hidden, type InputShape, type MultitaskNet } from './nets.ts';

/** A task name as a module and tensor name segment (letters, digits, underscores). */
export function ident(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

/** Which columns each input carries: the aux model keeps the main task's private columns apart. */
export interface Layout {
  shape: InputShape;
  /** Indices into the table's continuous columns: the shared input, and the private one (aux). */
  shared: number[];
  private: number[];
}

/** The columns of a table, or of a checkpoint's feature schema (the same fields). */
export function layoutOf(c: MultitaskConfig, data: Pick<TabularData, 'categorical' | 'continuous' | 'privateColumns'>): Layout {
  const all = data.continuous.map((_, i) => i);
  const isPrivate = (i: number): boolean => c.model === 'aux' && data.continuous[i].name in data.privateColumns;
  const shared = all.filter((i) => !isPrivate(i));
  const priv = all.filter(isPrivate);
  return { shape: { fields: data.categorical.map((col) => ({ name: ident(col.name), vocabulary: col.vocab.length })), continuous: shared.length, private: priv.length }, shared, private: priv };
}

/** The network and, with uncertainty weighting, the tasks' learned log-variances. */
export class MultitaskModel extends Module {
  readonly net: MultitaskNet;
  readonly logVars: Parameter | null;
  readonly tasks: string[];

  constructor(
    readonly config: MultitaskConfig,
    readonly layout: Layout,
    rng: Rng,
  ) {
    super();
    this.tasks = taskSpecs(config).map((t) => t.name);
    this.net = this.module('', createNet(rng, layout.shape, config, this.tasks.map(ident)));
    this.logVars = config.lossWeighting === 'uncertainty' ? this.param('log_vars', [this.tasks.length], init.zeros()(rng, [this.tasks.length])) : null;
  }

  /** The feature inputs of a graph over `rows` rows. */
  features(g: Graph, rows: number): Features {
    const s = this.layout.shape;
    return {
      categorical: s.fields.length ? g.input('categorical', [rows, s.fields.length], 'u32') : null,
      continuous: s.continuous ? g.input('continuous', [rows, s.continuous], 'f32') : null,
      private: s.private ? g.input('private', [rows, s.private], 'f32') : null,
    };
  }
}

/** The label inputs a training graph reads: one label and one weight column per loss. */
export function lossLabels(c: MultitaskConfig): string[] {
  return c.model === 'esmm' ? ['click', 'ctcvr'] : taskSpecs(c).map((t) => ident(t.name));
}

export interface TrainGraph {
  g: Graph;
  metrics: Metrics;
  rows: number;
  /** The per-step dropout seed input, when dropout is on. */
  seeded: boolean;
}

/**
 * One training step over batches of `rows` rows, its updates attached to `optimizer`. `only`:
 * alternating training's task (its loss alone seeds the gradients); every task's loss is still
 * computed for its metric in joint training. Metrics are each loss's per-step mean, unweighted.
 */
export function trainGraph(m: MultitaskModel, rows: number, optimizer: AdamOptimizer, only?: number): TrainGraph {
  const c = m.config;
  const g = new Graph();
  const params = m.declare(g);
  const x = m.features(g, rows);
  const seeded = c.dropout > 0;
  // [seed, step], fed each step: every step and layer draws its own mask, the same on resume.
  const seed = seeded ? g.input('dropout_seed', [2], 'u32') : null;
  let layer = 0;
  const hidden: Hidden = seed ? (gg, h) => dropout(gg, h, c.dropout, seed, layer++) : (_gg, h) => h;
  const outs = m.net.outputs(g, x, hidden);
  const labels = lossLabels(c);
  const input = (name: string): { y: Tensor; w: Tensor } => ({ y: g.input(`label.${name}`, [rows, 1], 'f32'), w: g.input(`weight.${name}`, [rows, 1], 'f32') });
  const weights = taskWeights(c);
  // A loss with weight 0 (or not this step's task) is computed with weight 1 for its metric and seeds nothing.
  const scaleOf = (t: number): number => (c.lossWeighting === 'uncertainty' || weights[t] === 0 ? 1 : weights[t]);
  const losses: Tensor[] = [];
  if (c.model === 'esmm') {
    const click = input('click');
    const ctcvr = input('ctcvr');
    losses.push(bceWithLogits(g, outs[0], click.y, { weights: click.w, divisor: 1, weight: scaleOf(0) }));
    losses.push(bceOnProduct(g, outs[0], outs[1], ctcvr.y, { weights: ctcvr.w, divisor: 1, weight: scaleOf(1) }));
  } else {
    taskSpecs(c).forEach((task, t) => {
      const { y, w } = input(labels[t]);
      losses.push(
        task.kind === 'binary'
          ? bceWithLogits(g, outs[t], y, { weights: w, divisor: 1, weight: scaleOf(t) })
          : mseLoss(g, outs[t], y, scaleOf(t), { weights: w, divisor: 1 }),
      );
    });
  }
  const metrics = new Metrics(g, labels);
  losses.forEach((l, t) => metrics.add(g, labels[t], l, scaleOf(t)));
  let seeds: Tensor[];
  if (m.logVars) seeds = [uncertaintyLoss(g, losses, m.logVars.on(g))];
  else seeds = losses.filter((_, t) => weights[t] > 0 && (only === undefined || only === t));
  const grads = gradients(g, seeds, [...params.values()]);
  optimizer.attach(g, grads);
  return { g, metrics, rows, seeded };
}

export interface EvalGraph {
  g: Graph;
  rows: number;
  /** [rows, outputs]: each task's probability (binary) or value (regression); ESMM: pCTR, pCVR, pCTCVR. */
  predictions: Tensor;
  outputs: number;
}

/** Every task's prediction for `rows` rows, no dropout. */
export function evalGraph(m: MultitaskModel, rows: number): EvalGraph {
  const c = m.config;
  const g = new Graph();
  m.declare(g);
  const outs = m.net.outputs(g, m.features(g, rows), (_g, h) => h);
  let preds: Tensor[];
  if (c.model === 'esmm') {
    const ctr = activate(g, outs[0], 'sigmoid');
    const cvr = activate(g, outs[1], 'sigmoid');
    preds = [ctr, cvr, mul(g, ctr, cvr)];
  } else {
    const tasks = taskSpecs(c);
    preds = outs.map((o, t) => (tasks[t].kind === 'binary' ? activate(g, o, 'sigmoid') : o));
  }
  const predictions = g.keep(preds.length === 1 ? preds[0] : concat(g, preds));
  return { g, rows, predictions, outputs: preds.length };
}

