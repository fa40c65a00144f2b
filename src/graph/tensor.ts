// Tensors of the op graph: static shapes, a dtype, and what role the tensor plays.
import type { Node } from './node.ts';

export type DType = 'f32' | 'u32';

/**
 * param: trained, persistent, initialised from data; state: persistent, zero-initialised
 * (optimizer moments, metric accumulators); input: written by the host every step;
 * value: produced by an op inside the step, its buffer shared by the memory plan.
 */
export type TensorKind = 'param' | 'state' | 'input' | 'value';

export class GraphError extends Error {
  override name = 'GraphError';
}

let nextId = 0;

export class Tensor {
  readonly id = nextId++;
  /** The node that writes this tensor (values only). */
  producer: Node | null = null;

  constructor(
    readonly name: string,
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly kind: TensorKind,
  ) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 1) throw new GraphError(`tensor "${name}": shape [${shape.join(', ')}] must be positive integers`);
    }
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get bytes(): number {
    return this.size * 4;
  }

  toString(): string {
    return `${this.name}[${this.shape.join('x')}]`;
  }
}

export function shapeString(t: Tensor): string {
  return `[${t.shape.join(', ')}]`;
}
