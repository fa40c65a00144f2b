// The scheduler: a graph's nodes in order, lowered once to dispatches whose pipelines and
// bind groups are all made at compile time. A step is then one compute pass replaying those
// dispatches, after the host's only uploads: the batch inputs and the per-step uniforms.
//
// Inputs are double-buffered: the graph is lowered twice, once per input set (pipelines come
// from the cache; only bind groups and small uniforms are made twice), and feed() alternates
// sets, so the host writes batch k+1 into buffers that batch k's dispatches do not bind.
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import type { StagingRing } from '../gpu/readback.ts';
import { encodeDispatch, type Dispatch } from '../kernels/kernel.ts';
import { GraphError, type Graph, type LowerContext, type Node, type Tensor, type TypedData } from './graph.ts';
import { optimize, type Pass } from './passes.ts';
import { planMemory, type MemoryPlan } from './plan.ts';

type Program = { node: Node; dispatches: Dispatch[] }[];

export interface CompileOptions {
  /** Share value buffers between tensors whose lifetimes do not overlap (default true). */
  reuse?: boolean;
  /**
   * Another compiled step whose parameters and state this one uses in place, matched by name
   * (shapes must agree): an evaluation graph over the training weights, or the same step
   * compiled for a smaller last batch. That step owns those buffers and must outlive this one.
   */
  shareWith?: CompiledStep;
  /** The rewrite rules run first (default PASSES); [] compiles the graph as written (to compare bits). */
  passes?: readonly Pass[];
}

/**
 * Work kept pending on the buffers a group of steps shares (an optimizer's deferred table
 * rows), settled before something that may read them: a run of `step`, or a read from it.
 */
export interface Pending {
  settle(step: CompiledStep, use: 'run' | 'read'): void;
  /** Whether the state tensor named `name` is this work's bookkeeping, rebuilt on load: checkpoints leave it out. */
  rebuilds(name: string): boolean;
}

export class CompiledStep {
  private constructor(
    private readonly gpu: Gpu,
    readonly graph: Graph,
    private readonly scope: BufferScope,
    /** Per input set: every tensor's buffer (only inputs differ between the two). */
    private readonly buffers: [Map<Tensor, GPUBuffer>, Map<Tensor, GPUBuffer>],
    private readonly uniforms: Map<string, GPUBuffer>,
    /** Per input set: dispatches per node, in node order. */
    private readonly programs: [Program, Program],
    readonly memory: MemoryPlan,
    /** Shared with every step made with shareWith this one (the same buffers, the same pending work). */
    private readonly pending: Pending[],
  ) {}

  /** The input set the next run uses (flipped by each feed). */
  private current = 0;

  /** Dispatches per node of the current input set. */
  get program(): Program {
    return this.programs[this.current];
  }

  static async create(gpu: Gpu, graph: Graph, opts: CompileOptions = {}): Promise<CompiledStep> {
    // The fusions first: models write plain ops, the passes pick the fused kernels.
    optimize(graph, opts.passes);
    const scope = gpu.buffers.scope();
    try {
      const memory = planMemory(graph.nodes, graph.kept, opts.reuse ?? true);
      const slotBuffers = memory.slots.map((bytes, i) => scope.create(`slot${i}`, bytes));
      const buffers: [Map<Tensor, GPUBuffer>, Map<Tensor, GPUBuffer>] = [new Map(), new Map()];
      for (const t of graph.tensors) {
        if (t.kind === 'value') {
          const slot = memory.slotOf.get(t);
          // A value no node writes cannot exist: Graph.apply creates values only as outputs.
          if (slot === undefined) throw new GraphError(`${t} has no producer in the step`);
          for (const b of buffers) b.set(t, slotBuffers[slot]);
        } else if (t.kind === 'input') {
          buffers.forEach((b, k) => b.set(t, scope.create(`${t.name}[${k}]`, t.bytes)));
        } else if (opts.shareWith?.persistent(t.name)) {
          const other = opts.shareWith.persistent(t.name) as Tensor;
          if (other.shape.join() !== t.shape.join()) throw new GraphError(`${t} cannot share ${other} of the other step: the shapes differ`);
          const buf = opts.shareWith.buffer(other);
          for (const b of buffers) b.set(t, buf);
        } else {
          const init = graph.init.get(t);
          const buf = init ? scope.upload(t.name, init) : scope.create(t.name, t.bytes);
          for (const b of buffers) b.set(t, buf);
        }
      }
      const uniforms = new Map<string, GPUBuffer>();
      const context = (set: Map<Tensor, GPUBuffer>): LowerContext => ({
        gpu,
        scope,
        buffer: (t) => {
          const b = set.get(t);
          if (!b) throw new GraphError(`${t} is not part of this graph`);
          return b;
        },
        uniform: (name, bytes) => {
          let u = uniforms.get(name);
          if (!u) uniforms.set(name, (u = scope.create(`uniform:${name}`, bytes, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST)));
          if (u.size < bytes) throw new GraphError(`uniform "${name}" was made with ${u.size} bytes, an op needs ${bytes}`);
          return u;
        },
      });
      const lower = async (set: Map<Tensor, GPUBuffer>): Promise<Program> => {
        const ctx = context(set);
        // Every node's pipelines compile concurrently.
        const lowered = await Promise.all(graph.nodes.map((n) => n.op.lower(ctx, n)));
        return graph.nodes.map((node, i) => ({ node, dispatches: lowered[i] }));
      };
      const programs: [Program, Program] = [await lower(buffers[0]), await lower(buffers[1])];
      await gpu.idle(); // uploads done, and any validation error surfaces here
      return new CompiledStep(gpu, graph, scope, buffers, uniforms, programs, memory, opts.shareWith?.pending ?? []);
    } catch (err) {
      scope.destroy();
      throw err;
    }
  }

  /** The parameter or state tensor called `name`, if this step has one. */
  persistent(name: string): Tensor | undefined {
    return this.graph.tensors.find((t) => t.name === name && (t.kind === 'param' || t.kind === 'state'));
  }

  buffer(t: Tensor): GPUBuffer {
    const b = this.buffers[this.current].get(t);
    if (!b) throw new GraphError(`${t} is not part of this compiled step`);
    return b;
  }

  /** Writes the batch into the other input set (the next run uses it): every input by name, then the inputs derived from them on the host. */
  feed(data: Record<string, TypedData>): void {
    // Everything is checked and derived before anything is written: a bad batch leaves both sets as they were.
    const fed = new Map<Tensor, TypedData>();
    for (const t of this.graph.inputs) {
      if (this.graph.derivations.has(t)) continue;
      const d = data[t.name];
      if (!d) throw new GraphError(`input "${t.name}" was not fed`);
      if (d.length !== t.size) throw new GraphError(`input "${t.name}" ${JSON.stringify(t.shape)} needs ${t.size} values, got ${d.length}`);
      if ((t.dtype === 'u32') !== d instanceof Uint32Array) throw new GraphError(`input "${t.name}" is ${t.dtype}, got a ${d.constructor.name}`);
      fed.set(t, d);
    }
    for (const [t, der] of this.graph.derivations) {
      const src = fed.get(der.from);
      if (!src) throw new GraphError(`derived input "${t.name}" needs "${der.from.name}", which was not fed`);
      fed.set(t, der.compute(src));
    }
    this.current ^= 1;
    for (const [t, d] of fed) this.gpu.device.queue.writeBuffer(this.buffer(t), 0, d.buffer, d.byteOffset, d.byteLength);
  }


  writeUniform(name: string, data: Float32Array | Uint32Array): void {
    const u = this.uniforms.get(name);
    if (!u) throw new GraphError(`no op of this step uses the uniform "${name}"`);
    this.gpu.device.queue.writeBuffer(u, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  hasUniform(name: string): boolean {
    return this.uniforms.has(name);
  }

  /** Registers work kept pending on this step's buffers (see Pending); steps that share them see it too. */
  defer(p: Pending): void {
    this.pending.push(p);
  }

  /** Whether `t` is bookkeeping of pending work on this step's buffers (see Pending.rebuilds), which checkpoints leave out. */
  rebuilds(t: Tensor): boolean {
    return this.pending.some((p) => p.rebuilds(t.name));
  }

  private settle(use: 'run' | 'read'): void {
    for (const p of this.pending) p.settle(this, use);
  }

  /** Records the whole step into `encoder` as one compute pass. */
  encode(encoder: GPUCommandEncoder): void {
    const pass = encoder.beginComputePass({ label: 'step' });
    for (const p of this.program) for (const d of p.dispatches) encodeDispatch(pass, d);
    pass.end();
  }

  /** One step: one command buffer, one submit (after any pending work it must see). */
  run(): void {
    this.settle('run');
    const encoder = this.gpu.device.createCommandEncoder({ label: 'step' });
    this.encode(encoder);
    this.gpu.device.queue.submit([encoder.finish()]);
  }

  /** Eager/debug mode: one submit per node, and `after` may read anything in between. */
  async runEager(after?: (node: Node) => Promise<void>): Promise<void> {
    this.settle('run');
    for (const p of this.program) {
      const encoder = this.gpu.device.createCommandEncoder({ label: p.node.op.name });
      const pass = encoder.beginComputePass({ label: p.node.op.name });
      for (const d of p.dispatches) encodeDispatch(pass, d);
      pass.end();
      this.gpu.device.queue.submit([encoder.finish()]);
      if (after) await after(p.node);
    }
  }

  /** A tensor's values, or `count` of them from element `from` on (one row of a large matrix). */
  async read(ring: StagingRing, t: Tensor, from = 0, count = t.size - from): Promise<Float32Array | Uint32Array> {
    this.settle('read');
    if (!(Number.isInteger(from) && Number.isInteger(count) && from >= 0 && count > 0 && from + count <= t.size)) {
      throw new GraphError(`${t} has ${t.size} values: cannot read ${count} from ${from}`);
    }
    const bytes = await ring.read(this.buffer(t), from * 4, count * 4);
    return t.dtype === 'u32' ? new Uint32Array(bytes) : new Float32Array(bytes);
  }

  /**
   * Reads `t` as the queue has it, leaving pending work (an optimizer's deferred table rows)
   * pending: only for tensors the steps themselves keep up to date, like the metric sums, where
   * a look in the middle of training must not change what training does.
   */
  async peek(ring: StagingRing, t: Tensor): Promise<Float32Array> {
    if (t.dtype !== 'f32') throw new GraphError(`${t} is ${t.dtype}: peek reads f32 tensors`);
    return new Float32Array(await ring.read(this.buffer(t), 0, t.size * 4));
  }

  /** Overwrites a persistent tensor (loading a checkpoint), or its elements from `offset` on. */
  write(t: Tensor, data: Float32Array | Uint32Array, offset = 0): void {
    if (t.kind === 'value') throw new GraphError(`${t} is made inside the step and cannot be written`);
    if ((t.dtype === 'u32') !== data instanceof Uint32Array) throw new GraphError(`${t} is ${t.dtype}, got a ${data.constructor.name}`);
    const whole = offset === 0 && data.length === t.size;
    if (!whole && !(Number.isInteger(offset) && offset >= 0 && offset + data.length <= t.size)) {
      throw new GraphError(`${t} has ${t.size} values: cannot write ${data.length} at ${offset}`);
    }
    this.gpu.device.queue.writeBuffer(this.buffer(t), offset * 4, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Dispatches per run. */
  get dispatchCount(): number {
    return this.program.reduce((a, p) => a + p.dispatches.length, 0);
  }

  destroy(): void {
    this.scope.destroy();
  }
}
