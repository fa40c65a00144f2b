// Losses and metrics summed on the GPU every step, read through the staging ring every K
// steps. A NaN or infinity stops training with the step and the tensor named.
import type { StagingRing } from '../gpu/readback.ts';
import type { CompiledStep } from './compile.ts';
import type { Graph } from './graph.ts';
import { accumulateMetric } from './ops/loss.ts';
import { GraphError, type Tensor } from './tensor.ts';

export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
}

export class Metrics {
  readonly tensor: Tensor;
  private readonly sources: Tensor[] = [];

  constructor(
    g: Graph,
    readonly names: readonly string[],
  ) {
    if (new Set(names).size !== names.length || names.length === 0) throw new GraphError(`metrics need distinct names, got ${names.join(', ')}`);
    this.tensor = g.state('metrics', [names.length]);
  }

  /** metrics[name] += sum(x) on every step. */
  add(g: Graph, name: string, x: Tensor): void {
    const slot = this.names.indexOf(name);
    if (slot < 0) throw new GraphError(`no metric named "${name}"; the metrics are ${this.names.join(', ')}`);
    this.sources[slot] = x;
    accumulateMetric(g, x, this.tensor, slot);
  }

  /**
   * The sums since the last read divided by `steps` (per-step means), then reset to zero.
   * `atStep` is the step count reported if a value is not finite.
   */
  async read(step: CompiledStep, ring: StagingRing, steps: number, atStep: number): Promise<Record<string, number>> {
    const sums = (await step.read(ring, this.tensor)) as Float32Array;
    step.write(this.tensor, new Float32Array(this.names.length));
    const out: Record<string, number> = {};
    this.names.forEach((name, i) => {
      const v = sums[i] / steps;
      if (!Number.isFinite(v)) {
        const src = this.sources[i] ? ` (tensor ${this.sources[i]})` : '';
        throw new NonFiniteError(`training stopped: "${name}"${src} became ${v} by step ${atStep}; lower the learning rate or check the input data`);
      }
      out[name] = v;
    });
    return out;
  }
}
