// Nodes of the op graph and the contract every op kind implements.
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import type { Dispatch } from '../kernels/kernel.ts';
import type { DType, Tensor } from './tensor.ts';
import type { Graph } from './graph.ts';

/** Where a node sits in a training step; eager mode and the bench report per phase. */
export type Phase = 'forward' | 'backward' | 'update';

export interface OutputSpec {
  name: string;
  shape: readonly number[];
  dtype: DType;
}

/** What an op needs at compile time: the device, an owner for its buffers, tensor buffers. */
export interface LowerContext {
  gpu: Gpu;
  scope: BufferScope;
  buffer(t: Tensor): GPUBuffer;
  /**
   * A uniform buffer the host rewrites between steps (learning rate, bias corrections),
   * shared by every op that asks for the same name; see CompiledStep.writeUniform.
   */
  uniform(name: string, bytes: number): GPUBuffer;
}

export interface OpKind<A> {
  readonly name: string;
  /** Output shapes; throws a GraphError naming the op and the shapes when inputs do not fit. */
  outputs(inputs: readonly Tensor[], attrs: A): OutputSpec[];
  /** Creates the kernels (pipelines, fixed uniforms, bind groups) once; returns the dispatches. */
  lower(ctx: LowerContext, node: Node<A>): Promise<Dispatch[]>;
  /**
   * Reverse mode: given the gradients of the outputs (null where none flows), adds the ops
   * that compute the inputs' gradients to `g` and returns them (null: no gradient).
   * `needed[k]` is false for inputs no trained tensor depends on: skip their work.
   */
  grad?(g: Graph, node: Node<A>, dOut: readonly (Tensor | null)[], needed: readonly boolean[]): (Tensor | null)[];
}

export class Node<A = unknown> {
  constructor(
    readonly id: number,
    readonly op: OpKind<A>,
    readonly inputs: readonly Tensor[],
    readonly outputs: readonly Tensor[],
    readonly attrs: A,
    readonly phase: Phase,
  ) {}

  toString(): string {
    return `${this.op.name}#${this.id}(${this.inputs.map(String).join(', ')})`;
  }
}
