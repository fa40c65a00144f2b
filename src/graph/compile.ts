// The scheduler: a graph's nodes in order, lowered once to dispatches whose pipelines and
// bind groups are all made at compile time. A step is then one compute pass replaying those
// dispatches, after the host's only uploads: the batch inputs and the per-step uniforms.
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import type { StagingRing } from '../gpu/readback.ts';
import { encodeDispatch, type Dispatch } from '../kernels/kernel.ts';
import type { Graph, TypedData } from './graph.ts';
import type { Node, LowerContext } from './node.ts';
import { planMemory, type MemoryPlan } from './plan.ts';
import { GraphError, type Tensor } from './tensor.ts';

export interface CompileOptions {
  /** Share value buffers between tensors whose lifetimes do not overlap (default true). */
  reuse?: boolean;
}

export class CompiledStep {
  private constructor(
    private readonly gpu: Gpu,
    readonly graph: Graph,
    private readonly scope: BufferScope,
    private readonly buffers: Map<Tensor, GPUBuffer>,
    private readonly uniforms: Map<string, GPUBuffer>,
    /** Dispatches per node, in node order. */
    readonly program: { node: Node; dispatches: Dispatch[] }[],
    readonly memory: MemoryPlan,
  ) {}

  static async create(gpu: Gpu, graph: Graph, opts: CompileOptions = {}): Promise<CompiledStep> {
    const scope = gpu.buffers.scope();
    try {
      const memory = planMemory(graph.nodes, graph.kept, opts.reuse ?? true);
      const slotBuffers = memory.slots.map((bytes, i) => scope.create(`slot${i}`, bytes));
      const buffers = new Map<Tensor, GPUBuffer>();
      for (const t of graph.tensors) {
        if (t.kind === 'value') {
          const slot = memory.slotOf.get(t);
          // A value no node writes cannot exist: Graph.apply creates values only as outputs.
          if (slot === undefined) throw new GraphError(`${t} has no producer in the step`);
          buffers.set(t, slotBuffers[slot]);
        } else {
          const init = graph.init.get(t);
          buffers.set(t, init ? scope.upload(t.name, init) : scope.create(t.name, t.bytes));
        }
      }
      const uniforms = new Map<string, GPUBuffer>();
      const ctx: LowerContext = {
        gpu,
        scope,
        buffer: (t) => {
          const b = buffers.get(t);
          if (!b) throw new GraphError(`${t} is not part of this graph`);
          return b;
        },
        uniform: (name, bytes) => {
          let u = uniforms.get(name);
          if (!u) uniforms.set(name, (u = scope.create(`uniform:${name}`, bytes, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST)));
          if (u.size < bytes) throw new GraphError(`uniform "${name}" was made with ${u.size} bytes, an op needs ${bytes}`);
          return u;
        },
      };
      // Every node's pipelines compile concurrently.
      const lowered = await Promise.all(graph.nodes.map((n) => n.op.lower(ctx, n)));
      const program = graph.nodes.map((node, i) => ({ node, dispatches: lowered[i] }));
      await gpu.idle(); // uploads done, and any validation error surfaces here
      return new CompiledStep(gpu, graph, scope, buffers, uniforms, program, memory);
    } catch (err) {
      scope.destroy();
      throw err;
    }
  }

  buffer(t: Tensor): GPUBuffer {
    const b = this.buffers.get(t);
    if (!b) throw new GraphError(`${t} is not part of this compiled step`);
    return b;
  }

  /** Writes the batch: every input by name, then the inputs derived from them on the host. */
  feed(data: Record<string, TypedData>): void {
    const q = this.gpu.device.queue;
    const fed = new Map<Tensor, TypedData>();
    for (const t of this.graph.inputs) {
      if (this.graph.derivations.has(t)) continue;
      const d = data[t.name];
      if (!d) throw new GraphError(`input "${t.name}" was not fed`);
      if (d.length !== t.size) throw new GraphError(`input "${t.name}" ${JSON.stringify(t.shape)} needs ${t.size} values, got ${d.length}`);
      if ((t.dtype === 'u32') !== d instanceof Uint32Array) throw new GraphError(`input "${t.name}" is ${t.dtype}, got a ${d.constructor.name}`);
      fed.set(t, d);
      q.writeBuffer(this.buffer(t), 0, d.buffer, d.byteOffset, d.byteLength);
    }
    for (const [t, der] of this.graph.derivations) {
      const src = fed.get(der.from);
      if (!src) throw new GraphError(`derived input "${t.name}" needs "${der.from.name}", which was not fed`);
      const d = der.compute(src);
      q.writeBuffer(this.buffer(t), 0, d.buffer, d.byteOffset, d.byteLength);
    }
  }

  writeUniform(name: string, data: Float32Array | Uint32Array): void {
    const u = this.uniforms.get(name);
    if (!u) throw new GraphError(`no op of this step uses the uniform "${name}"`);
    this.gpu.device.queue.writeBuffer(u, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  hasUniform(name: string): boolean {
    return this.uniforms.has(name);
  }

  /** Records the whole step into `encoder` as one compute pass. */
  encode(encoder: GPUCommandEncoder): void {
    const pass = encoder.beginComputePass({ label: 'step' });
    for (const p of this.program) for (const d of p.dispatches) encodeDispatch(pass, d);
    pass.end();
  }

  /** One step: one command buffer, one submit. */
  run(): void {
    const encoder = this.gpu.device.createCommandEncoder({ label: 'step' });
    this.encode(encoder);
    this.gpu.device.queue.submit([encoder.finish()]);
  }

  /** Eager/debug mode: one submit per node, and `after` may read anything in between. */
  async runEager(after?: (node: Node) => Promise<void>): Promise<void> {
    for (const p of this.program) {
      const encoder = this.gpu.device.createCommandEncoder({ label: p.node.op.name });
      const pass = encoder.beginComputePass({ label: p.node.op.name });
      for (const d of p.dispatches) encodeDispatch(pass, d);
      pass.end();
      this.gpu.device.queue.submit([encoder.finish()]);
      if (after) await after(p.node);
    }
  }

  async read(ring: StagingRing, t: Tensor): Promise<Float32Array | Uint32Array> {
    const bytes = await ring.read(this.buffer(t), 0, t.bytes);
    return t.dtype === 'u32' ? new Uint32Array(bytes) : new Float32Array(bytes);
  }

  /** Overwrites a persistent tensor (loading a checkpoint). */
  write(t: Tensor, data: Float32Array): void {
    if (t.kind === 'value') throw new GraphError(`${t} is made inside the step and cannot be written`);
    if (data.length !== t.size) throw new GraphError(`${t} needs ${t.size} values, got ${data.length}`);
    this.gpu.device.queue.writeBuffer(this.buffer(t), 0, data.buffer, data.byteOffset, data.byteLength);
  }

  get dispatchCount(): number {
    return this.program.reduce((a, p) => a + p.dispatches.length, 0);
  }

  destroy(): void {
    this.scope.destroy();
  }
}
