// Modules as in PyTorch's nn: a module owns named parameters and named child modules, and its
// dotted path in the tree names each parameter (`towers.0.mlp.1.weight`): the checkpoint key.
// Initial values are drawn when a module is made, in the order its members are declared, so the
// order of construction is the order of random draws. A model is declared on each graph that
// uses it (`declare`), which makes every parameter a graph param under its dotted name; forward
// methods then build graph ops over those tensors. Several graphs (a training step, its smaller
// last batch, evaluation) declare one model and so share its weights by name.
import { GraphError, type Graph, type Tensor } from '../graph/graph.ts';

/** A trained tensor: its shape, its initial values, and its tensor on each graph that declares it. */
export class Parameter {
  private readonly tensors = new WeakMap<Graph, Tensor>();

  constructor(
    readonly shape: readonly number[],
    /** Initial values (a test may change them before declaring). */
    readonly data: Float32Array,
  ) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new GraphError(`a parameter of shape [${shape.join(', ')}] needs ${size} initial values, got ${data.length}`);
  }

  /** This parameter's tensor on `g`. */
  on(g: Graph): Tensor {
    const t = this.tensors.get(g);
    if (!t) throw new GraphError(`a parameter of shape [${this.shape.join(', ')}] is not on this graph: declare its model there first (Module.declare)`);
    return t;
  }

  /** Called by Module.declare. */
  place(g: Graph, name: string): Tensor {
    if (this.tensors.has(g)) throw new GraphError(`parameter "${name}" is already on this graph as "${this.tensors.get(g)?.name}": a module is declared once and holds each parameter once`);
    const t = g.param(name, this.shape, this.data);
    this.tensors.set(g, t);
    return t;
  }
}

/**
 * A member named '' adds no segment to the names below it: an embedding names its table by its
 * own path (`item_embeddings`, a checkpoint key older than these modules), and a model can hold
 * a group of members at its own level (the recommender's shared tables).
 */
export const dotted = (prefix: string, name: string): string => (prefix && name ? `${prefix}.${name}` : prefix || name);

export abstract class Module {
  /** Parameters and children, in declaration order. */
  private readonly members = new Map<string, Parameter | Module>();

  private claim(name: string): void {
    if (!/^[A-Za-z0-9_]*$/.test(name)) throw new GraphError(`member name "${name}" must be letters, digits and underscores (the dots come from the tree)`);
    if (this.members.has(name)) throw new GraphError(`${this.constructor.name} already has a member "${name}"`);
  }

  /** Declares a parameter under the local name `name`, with its initial values. */
  protected param(name: string, shape: readonly number[], data: Float32Array): Parameter {
    this.claim(name);
    const p = new Parameter(shape, data);
    this.members.set(name, p);
    return p;
  }

  /** Declares a child module under the local name `name`. */
  protected module<M extends Module>(name: string, child: M): M {
    this.claim(name);
    this.members.set(name, child);
    return child;
  }

  /** Every parameter under its dotted name, in declaration order (depth first). */
  namedParameters(prefix = ''): Map<string, Parameter> {
    const out = new Map<string, Parameter>();
    for (const [name, m] of this.members) {
      const full = dotted(prefix, name);
      const entries: [string, Parameter][] = m instanceof Parameter ? [[full, m]] : [...m.namedParameters(full)];
      for (const [n, p] of entries) {
        if (out.has(n)) throw new GraphError(`two parameters are named "${n}": give the members distinct names`);
        out.set(n, p);
      }
    }
    return out;
  }

  /** Its own parameters and children under their local names, in declaration order. */
  entries(): IterableIterator<[string, Parameter | Module]> {
    return this.members.entries();
  }

  /** This module and every module below it, parents first. */
  *modules(): Generator<Module> {
    yield this;
    for (const m of this.members.values()) if (m instanceof Module) yield* m.modules();
  }

  /**
   * Makes every parameter a param of `g` under its dotted name (after `prefix`), in declaration
   * order; returns them by name.
   */
  declare(g: Graph, prefix = ''): Map<string, Tensor> {
    return new Map(
      [...this.namedParameters(prefix)].map(([name, p]) => {
        if (!name) throw new GraphError(`a lone ${this.constructor.name}'s table has no name: declare it with a prefix, e.g. declare(g, 'table')`);
        return [name, p.place(g, name)];
      }),
    );
  }
}
