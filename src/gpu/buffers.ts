// Buffer ownership: every GPU buffer is created through a scope that destroys it.

export type TypedArray = Float32Array | Uint32Array | Int32Array;

/** WebGPU rejects zero-sized bindings; tiny tensors still get a real buffer. */
const MIN_BUFFER_BYTES = 16;

/** The usage of every tensor buffer. A function, not a constant: in Node the GPUBufferUsage
 * global exists only once the Dawn platform has loaded. */
export function storageUsage(): GPUBufferUsageFlags {
  return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
}

export function alignTo(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export class BufferScope {
  private readonly owned = new Set<GPUBuffer>();
  private readonly children = new Set<BufferScope>();
  private destroyed = false;

  constructor(
    readonly device: GPUDevice,
    private readonly parent?: BufferScope,
  ) {}

  /** A child scope: destroyed with this one, or on its own earlier. */
  scope(): BufferScope {
    const child = new BufferScope(this.device, this);
    this.children.add(child);
    return child;
  }

  create(label: string, bytes: number, usage: GPUBufferUsageFlags = storageUsage()): GPUBuffer {
    if (this.destroyed) throw new Error(`buffer "${label}": its scope was already destroyed`);
    const buffer = this.device.createBuffer({ label, size: alignTo(Math.max(bytes, MIN_BUFFER_BYTES), 4), usage });
    this.owned.add(buffer);
    return buffer;
  }

  /** A storage buffer holding `data` (padded to 4 bytes). */
  upload(label: string, data: TypedArray, usage: GPUBufferUsageFlags = storageUsage()): GPUBuffer {
    const buffer = this.create(label, data.byteLength, usage | GPUBufferUsage.COPY_DST);
    if (data.byteLength > 0) this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  uniform(label: string, words: ArrayLike<number>, kind: 'u32' | 'f32' = 'u32'): GPUBuffer {
    const data = kind === 'u32' ? Uint32Array.from(words) : Float32Array.from(words);
    // Uniform structs are 16-byte aligned.
    const buffer = this.create(label, alignTo(data.byteLength, 16), GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    if (this.owned.delete(buffer)) buffer.destroy();
  }

  get count(): number {
    let n = this.owned.size;
    for (const c of this.children) n += c.count;
    return n;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const c of [...this.children]) c.destroy();
    for (const b of this.owned) b.destroy();
    this.owned.clear();
    this.parent?.children.delete(this);
  }
}
