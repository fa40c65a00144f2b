// The op graph: tensors (static shapes, a dtype, a role), nodes and the contract every op kind
// implements, and the builder that adds parameters, inputs and ops. One module, because the
// three refer to one another (a tensor's producer is a node, an op's gradient builds a graph).
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import type { Dispatch } from '../kernels/kernel.ts';

// ---- tensors -------------------------------------------------------------------------------
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

// ---- nodes and the op contract -----------------------------------------------------------
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

// ---- the builder -----------------------------------------------------------------------------
export type TypedData = Float32Array | Uint32Array;

/** A host-side function of a fed input, computed before upload (e.g. the CSR of an index batch). */
export interface Derivation {
  from: Tensor;
  compute(src: TypedData): TypedData;
}

/** Throws unless `op` over `inputs` makes tensors shaped like `outputs`. */
function checkOutputs<A>(op: OpKind<A>, inputs: readonly Tensor[], attrs: A, outputs: readonly Tensor[], what: string): void {
  const specs = op.outputs(inputs, attrs);
  const same = specs.length === outputs.length && specs.every((s, i) => s.dtype === outputs[i].dtype && s.shape.join() === outputs[i].shape.join());
  if (!same) throw new GraphError(`${what}: its outputs differ`);
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly tensors: Tensor[] = [];
  /** Initial contents of parameters. */
  readonly init = new Map<Tensor, Float32Array>();
  readonly derivations = new Map<Tensor, Derivation>();
  /** Tensors whose values must survive the whole step (losses, metrics, anything read back). */
  readonly kept = new Set<Tensor>();
  private phase: Phase = 'forward';
  private nextId = 0;
  private readonly names = new Set<string>();

  private unique(name: string): string {
    if (!this.names.has(name)) {
      this.names.add(name);
      return name;
    }
    for (let i = 1; ; i++) {
      const n = `${name}_${i}`;
      if (!this.names.has(n)) {
        this.names.add(n);
        return n;
      }
    }
  }

  private add(name: string, shape: readonly number[], dtype: DType, kind: Tensor['kind'], exact = false): Tensor {
    if (exact && this.names.has(name)) throw new GraphError(`a tensor named "${name}" already exists`);
    const t = new Tensor(exact ? name : this.unique(name), shape, dtype, kind);
    if (exact) this.names.add(name);
    this.tensors.push(t);
    return t;
  }

  /** A trained parameter; its name is its checkpoint key, so it must be unique. */
  param(name: string, shape: readonly number[], init: Float32Array): Tensor {
    const t = this.add(name, shape, 'f32', 'param', true);
    if (init.length !== t.size) throw new GraphError(`parameter "${name}" ${JSON.stringify(shape)} needs ${t.size} initial values, got ${init.length}`);
    this.init.set(t, init);
    return t;
  }

  /** Persistent, zero-initialised (optimizer moments, accumulators). */
  state(name: string, shape: readonly number[], o: { dtype?: DType } = {}): Tensor {
    return this.add(name, shape, o.dtype ?? 'f32', 'state', true);
  }

  /** Written by the host every step. */
  input(name: string, shape: readonly number[], dtype: DType): Tensor {
    return this.add(name, shape, dtype, 'input', true);
  }

  /** An input the host computes from another input each step. */
  derived(name: string, shape: readonly number[], dtype: DType, d: Derivation): Tensor {
    if (d.from.kind !== 'input') throw new GraphError(`derived input "${name}" must come from an input, not ${d.from}`);
    const t = this.add(name, shape, dtype, 'input', true);
    this.derivations.set(t, d);
    return t;
  }

  /** Runs `fn` with new nodes tagged with `phase`. */
  inPhase<T>(phase: Phase, fn: () => T): T {
    const prev = this.phase;
    this.phase = phase;
    try {
      return fn();
    } finally {
      this.phase = prev;
    }
  }

  apply<A>(op: OpKind<A>, inputs: readonly Tensor[], attrs: A): Tensor[] {
    for (const t of inputs) {
      if (!this.tensors.includes(t)) throw new GraphError(`${op.name}: input ${t} belongs to another graph`);
    }
    const specs = op.outputs(inputs, attrs);
    const outputs = specs.map((s) => this.add(s.name, s.shape, s.dtype, 'value'));
    const node = new Node(this.nextId++, op as OpKind<unknown>, inputs, outputs, attrs as unknown, this.phase);
    for (const o of outputs) o.producer = node;
    this.nodes.push(node);
    return outputs;
  }

  /**
   * Rewrites `node` where it stands as `op` over `inputs`, writing `outputs`: its own tensors or
   * those of the nodes in `absorb`, whose work it takes over and which leave the graph (a
   * gradient sum folded into the op that makes one addend). Tensors the old nodes wrote and the
   * new one does not leave too; nothing left may read them, and `inputs` must be made earlier.
   */
  rewrite<A>(node: Node, op: OpKind<A>, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: A, absorb: readonly Node[] = []): Node {
    const what = `cannot rewrite ${node} as ${op.name}`;
    checkOutputs(op, inputs, attrs, outputs, what);
    const at = this.nodes.indexOf(node);
    const old = new Set<Node>([node, ...absorb]);
    const gone = [...old].flatMap((n) => n.outputs).filter((t) => !outputs.includes(t));
    if (gone.some((t) => this.kept.has(t) || this.nodes.some((n) => !old.has(n) && n.inputs.includes(t)))) throw new GraphError(`${what}: a tensor it would drop is still read`);
    if (inputs.some((t) => t.producer && !old.has(t.producer) && this.nodes.indexOf(t.producer) > at)) throw new GraphError(`${what}: an input is made after it`);
    const fresh = new Node(node.id, op as OpKind<unknown>, inputs, outputs, attrs as unknown, node.phase);
    this.nodes[at] = fresh;
    for (const n of absorb) this.nodes.splice(this.nodes.indexOf(n), 1);
    for (const t of gone) this.tensors.splice(this.tensors.indexOf(t), 1);
    for (const o of outputs) o.producer = fresh;
    return fresh;
  }

  /** Drops a node nothing reads (an optimizer fused its work into another op), with its outputs. */
  removeNode(node: Node): void {
    for (const o of node.outputs) {
      if (this.kept.has(o) || this.nodes.some((n) => n.inputs.includes(o))) throw new GraphError(`cannot remove ${node}: ${o} is still used`);
    }
    this.nodes.splice(this.nodes.indexOf(node), 1);
    for (const o of node.outputs) this.tensors.splice(this.tensors.indexOf(o), 1);
  }

  keep(t: Tensor): Tensor {
    this.kept.add(t);
    return t;
  }

  get params(): Tensor[] {
    return this.tensors.filter((t) => t.kind === 'param');
  }

  get inputs(): Tensor[] {
    return this.tensors.filter((t) => t.kind === 'input');
  }
}
