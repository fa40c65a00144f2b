// Losses and metrics summed on the GPU every step, read through the staging ring every K
// steps. A NaN or infinity stops training with the step and the tensor named.
import type { StagingRing } from '../gpu/readback.ts';
import type { CompiledStep } from './compile.ts';
import { GraphError, type Graph, type Tensor } from './graph.ts';
import { accumulateMetric } from './ops/loss.ts';

export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
}

export class Metrics {
  readonly tensor: Tensor;
  private readonly sources: Tensor[] = [];
  private readonly weights: number[] = [];

  constructor(
    g: Graph,
    readonly names: readonly string[],
  ) {
    if (new Set(names).size !== names.length || names.length === 0) throw new GraphError(`metrics need distinct names, got ${names.join(', ')}`);
    this.tensor = g.state('metrics', [names.length]);
  }

  /**
   * metrics[name] += sum(x) on every step. `weight`: x's terms carry a loss weight (applied in
   * the loss op's kernel); reads divide it back out, so the metric is the unweighted loss.
   */
  add(g: Graph, name: string, x: Tensor, weight = 1): void {
    const slot = this.names.indexOf(name);
    if (slot < 0) throw new GraphError(`no metric named "${name}"; the metrics are ${this.names.join(', ')}`);
    if (!(weight > 0 && Number.isFinite(weight))) throw new GraphError(`metric "${name}": its loss weight must be a finite number > 0, got ${weight}`);
    this.sources[slot] = x;
    this.weights[slot] = weight;
    accumulateMetric(g, x, this.tensor, slot);
  }

  /**
   * The sums since the last read divided by `steps` and by their loss weights, as read() gives
   * them, without resetting them or settling any pending work: a look in the middle of training
   * (divergence watch, src/experiments/watch.ts). Values that are not finite are returned as they are.
   */
  async peek(step: CompiledStep, ring: StagingRing, steps: number): Promise<Record<string, number>> {
    const sums = await step.peek(ring, this.tensor);
    return Object.fromEntries(this.names.map((name, i) => [name, sums[i] / steps / (this.weights[i] ?? 1)]));
  }

  /**
   * The sums since the last read divided by `steps` (per-step means) and by their loss weights, then reset to zero.
   * `atStep` is the step count reported if a value is not finite; with `keepNonFinite` such a value
   * is returned instead, for a caller that names it in its own terms (the experiments' training loop).
   */
  async read(step: CompiledStep, ring: StagingRing, steps: number, atStep: number, keepNonFinite = false): Promise<Record<string, number>> {
    const sums = (await step.read(ring, this.tensor)) as Float32Array;
    step.write(this.tensor, new Float32Array(this.names.length));
    const out: Record<string, number> = {};
    this.names.forEach((name, i) => {
      const v = sums[i] / steps;
      if (!Number.isFinite(v) && !keepNonFinite) {
        const src = this.sources[i] ? ` (tensor ${this.sources[i]})` : '';
        throw new NonFiniteError(`training stopped: "${name}"${src} became ${v} by step ${atStep}; lower the learning rate or check the input data`);
      }
      out[name] = v / (this.weights[i] ?? 1);
    });
    return out;
  }
}

/** The parameters of `step` holding a NaN or an infinity, by name: read once a run has diverged (one readback each). */
export async function nonFiniteParams(step: CompiledStep, ring: StagingRing): Promise<string[]> {
  const bad: string[] = [];
  for (const t of step.graph.tensors) {
    if (t.kind !== 'param') continue;
    const data = (await step.read(ring, t)) as Float32Array;
    if (!data.every(Number.isFinite)) bad.push(t.name);
  }
  return bad;
}
