// One declarative spec per entry point, and the one generic create/bind that every kernel goes
// through: the pipeline from the cache, its own parameter uniforms, and at bind time every
// binding checked by name against the WGSL's declarations (number, access), the spec's sizes
// and aliasing. Binding numbers and access modes are read from the WGSL, never written in TS.
import type { BufferScope } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/context.ts';
import { KernelError, pipeline, type BindingResource, type Constants, type Dispatch } from './kernel.ts';

export interface WgslBinding {
  readonly binding: number;
  readonly space: 'uniform' | 'storage';
  /** Whether the shader may write it (storage, read_write). */
  readonly writes: boolean;
}

const declaration = /@group\(0\)\s*@binding\((\d+)\)\s*var<\s*(uniform|storage)\s*(?:,\s*(read|read_write)\s*)?>\s*(\w+)/g;
const parsed = new Map<string, ReadonlyMap<string, WgslBinding>>();

/** The group-0 bindings a WGSL module declares, by variable name (line comments skipped). */
export function wgslBindings(source: string): ReadonlyMap<string, WgslBinding> {
  let out = parsed.get(source);
  if (!out) {
    const found = new Map<string, WgslBinding>();
    for (const m of source.replace(/\/\/[^\n]*/g, '').matchAll(declaration)) {
      found.set(m[4], { binding: Number(m[1]), space: m[2] as 'uniform' | 'storage', writes: m[3] === 'read_write' });
    }
    parsed.set(source, (out = found));
  }
  return out;
}

/**
 * One entry point bound to one shape. `params` are uniforms the kernel owns, written once at
 * create (u32 words; floats through f32Bits); `sizes` are the bytes every binding the caller
 * gives must hold, by WGSL name — exactly the bindings the entry point uses besides `params`.
 */
export interface EntrySpec<B extends string> {
  /** Names the kernel in labels and errors. */
  readonly kernel: string;
  readonly source: string;
  readonly entry: string;
  readonly constants?: Constants;
  readonly params?: Readonly<Record<string, ArrayLike<number>>>;
  readonly sizes: Readonly<Record<B, number>>;
  /** How errors write the shape. */
  readonly shape: string;
  readonly grid: readonly [number, number];
}

type Resolved = { readonly name: string; readonly decl: WgslBinding; readonly bytes: number };

function declOf(spec: EntrySpec<string>, name: string): WgslBinding {
  const decl = wgslBindings(spec.source).get(name);
  if (!decl) throw new KernelError(spec.kernel, `the WGSL declares no binding named ${name}`);
  return decl;
}

function bindingRange(r: BindingResource): { buffer: GPUBuffer; offset: number; size: number } {
  if (!('buffer' in r)) return { buffer: r, offset: 0, size: r.size };
  const offset = r.offset ?? 0;
  return { buffer: r.buffer, offset, size: r.size ?? r.buffer.size - offset };
}

/** A compiled entry point for one shape; bind gives a Dispatch. */
export class Kernel<B extends string> {
  private constructor(
    private readonly gpu: Gpu,
    readonly spec: EntrySpec<B>,
    private readonly pipe: GPUComputePipeline,
    private readonly owned: readonly { readonly binding: number; readonly buffer: GPUBuffer }[],
    private readonly bindings: readonly Resolved[],
  ) {}

  /** Checks every size and the grid against the adapter's limits, then compiles (through the cache) and writes the params. */
  static async create<B extends string>(gpu: Gpu, spec: EntrySpec<B>, scope: BufferScope = gpu.buffers): Promise<Kernel<B>> {
    const limits = gpu.device.limits;
    const bindings = Object.entries<number>(spec.sizes).map(([name, bytes]) => {
      const decl = declOf(spec, name);
      const limit = decl.space === 'uniform' ? limits.maxUniformBufferBindingSize : limits.maxStorageBufferBindingSize;
      const which = decl.space === 'uniform' ? 'maxUniformBufferBindingSize' : 'maxStorageBufferBindingSize';
      if (bytes > limit) throw new KernelError(spec.kernel, `${name} needs ${bytes} bytes for shape ${spec.shape}, more than this adapter's ${which} (${limit})`);
      return { name, decl, bytes };
    });
    const maxGroups = limits.maxComputeWorkgroupsPerDimension;
    if (spec.grid[0] > maxGroups || spec.grid[1] > maxGroups) {
      throw new KernelError(spec.kernel, `shape ${spec.shape} needs a grid of ${spec.grid[0]}x${spec.grid[1]} workgroups, more than this adapter's maxComputeWorkgroupsPerDimension (${maxGroups}); split the work`);
    }
    const pipe = await pipeline(gpu, spec.kernel, spec.source, spec.entry, spec.constants);
    const owned = Object.entries(spec.params ?? {}).map(([name, words]) => {
      const decl = declOf(spec, name);
      if (decl.space !== 'uniform') throw new KernelError(spec.kernel, `params ${name} is a storage binding in the WGSL; params are uniforms`);
      return { binding: decl.binding, buffer: scope.uniform(`${spec.kernel}.${name}`, words) };
    });
    return new Kernel(gpu, spec, pipe, owned, bindings);
  }

  /** Binds the caller's buffers by WGSL name, after checking sizes, usage and aliasing. */
  bind(buffers: Readonly<Record<B, BindingResource>>): Dispatch {
    const k = this.spec.kernel;
    for (const name of Object.keys(buffers)) {
      if (!(name in this.spec.sizes)) throw new KernelError(k, `${name} is not a binding of ${this.spec.entry}; bind only ${Object.keys(this.spec.sizes).join(', ')}`);
    }
    const entries: GPUBindGroupEntry[] = this.owned.map((o) => ({ binding: o.binding, resource: { buffer: o.buffer } }));
    const seen: { name: string; writes: boolean; range: ReturnType<typeof bindingRange> }[] = [];
    for (const { name, decl, bytes } of this.bindings) {
      const r = buffers[name as B];
      if (r === undefined) throw new KernelError(k, `${name} is not bound; ${this.spec.entry} needs it`);
      const range = bindingRange(r);
      if (range.size < bytes) throw new KernelError(k, `${name} has ${range.size} bytes but shape ${this.spec.shape} needs ${bytes}`);
      const usage = decl.space === 'uniform' ? GPUBufferUsage.UNIFORM : GPUBufferUsage.STORAGE;
      if (!(range.buffer.usage & usage)) throw new KernelError(k, `${name} must be a ${decl.space.toUpperCase()} buffer`);
      for (const s of seen) {
        const overlaps = s.range.buffer === range.buffer && s.range.offset < range.offset + range.size && range.offset < s.range.offset + s.range.size;
        if (overlaps && (s.writes || decl.writes)) {
          const [w, o] = decl.writes ? [name, s.name] : [s.name, name];
          throw new KernelError(k, `${w} and ${o} are the same buffer; bind a distinct one`);
        }
      }
      seen.push({ name, writes: decl.writes, range });
      entries.push({ binding: decl.binding, resource: 'buffer' in r ? r : { buffer: r } });
    }
    const bindGroup = this.gpu.device.createBindGroup({ label: k, layout: this.pipe.getBindGroupLayout(0), entries });
    return { label: k, pipeline: this.pipe, bindGroup, grid: this.spec.grid };
  }
}
