// Reading results back: a ring of MAP_READ staging buffers. A staging buffer goes back into
// the ring only once its map has resolved and its bytes are copied out, so a read never
// waits on another read's buffer and never sees bytes that a later copy overwrites.
import type { Gpu } from './context.ts';
import { alignTo, type BufferScope } from './buffers.ts';

interface Slot {
  buffer: GPUBuffer;
  bytes: number;
  busy: boolean;
}

/** A copy recorded into an encoder; call `data()` once that encoder's commands are submitted. */
export interface PendingRead {
  data(): Promise<ArrayBuffer>;
}

export class StagingRing {
  private readonly slots: Slot[] = [];
  private readonly waiters: (() => void)[] = [];
  private readonly scope: BufferScope;

  constructor(
    private readonly gpu: Gpu,
    /** At most this many reads in flight; further reads wait for a slot. */
    private readonly capacity = 4,
  ) {
    this.scope = gpu.buffers.scope();
  }

  private async acquire(bytes: number): Promise<Slot> {
    for (;;) {
      const free = this.slots.find((s) => !s.busy && s.bytes >= bytes) ?? this.slots.find((s) => !s.busy);
      if (free) {
        if (free.bytes < bytes) {
          this.scope.release(free.buffer);
          free.bytes = alignTo(bytes, 256);
          free.buffer = this.scope.create('staging', free.bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
        }
        free.busy = true;
        return free;
      }
      if (this.slots.length < this.capacity) {
        const size = alignTo(Math.max(bytes, 256), 256);
        const slot = { buffer: this.scope.create('staging', size, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST), bytes: size, busy: true };
        this.slots.push(slot);
        return slot;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private releaseSlot(slot: Slot): void {
    slot.busy = false;
    this.waiters.shift()?.();
  }

  /** Records a copy of `bytes` bytes of `src` into `encoder`, first waiting for a free slot if the ring is full. */
  async copy(encoder: GPUCommandEncoder, src: GPUBuffer, srcOffset: number, bytes: number): Promise<PendingRead> {
    const size = alignTo(bytes, 4);
    const slot = await this.acquire(size);
    encoder.copyBufferToBuffer(src, srcOffset, slot.buffer, 0, size);
    return {
      data: async () => {
        try {
          await this.gpu.guard(slot.buffer.mapAsync(GPUMapMode.READ, 0, size));
          const out = slot.buffer.getMappedRange(0, size).slice(0, bytes);
          slot.buffer.unmap();
          return out;
        } finally {
          this.releaseSlot(slot);
        }
      },
    };
  }

  /** Copies and reads in one go (its own submit). */
  async read(src: GPUBuffer, srcOffset = 0, bytes = src.size - srcOffset): Promise<ArrayBuffer> {
    const encoder = this.gpu.device.createCommandEncoder({ label: 'readback' });
    const pending = await this.copy(encoder, src, srcOffset, bytes);
    this.gpu.device.queue.submit([encoder.finish()]);
    const data = await pending.data();
    this.gpu.check();
    return data;
  }

  async readF32(src: GPUBuffer, count: number, offsetElems = 0): Promise<Float32Array> {
    return new Float32Array(await this.read(src, offsetElems * 4, count * 4));
  }

  async readU32(src: GPUBuffer, count: number, offsetElems = 0): Promise<Uint32Array> {
    return new Uint32Array(await this.read(src, offsetElems * 4, count * 4));
  }

  destroy(): void {
    this.scope.destroy();
  }
}
