// The adapter's limit on one buffer, and how an experiment says that its config or data would
// need a bigger one: checked from the sizes alone, before any graph is built or buffer made, so
// `--embedding_dim 1000000` is one sentence at once instead of a kernel's message minutes later.
// Browser-safe.

/** The two limits every buffer a kernel binds must keep (GPUSupportedLimits has both). */
export interface BufferLimits {
  readonly maxBufferSize: number;
  readonly maxStorageBufferBindingSize: number;
}

/** The most bytes one buffer may hold: the smaller limit, with its name for the message. */
export interface BufferCap {
  bytes: number;
  name: string;
}

export function bufferCap(l: BufferLimits): BufferCap {
  return l.maxBufferSize < l.maxStorageBufferBindingSize ? { bytes: l.maxBufferSize, name: 'maxBufferSize' } : { bytes: l.maxStorageBufferBindingSize, name: 'maxStorageBufferBindingSize' };
}

/** f32 and u32 elements alike. */
export const ELEMENT_BYTES = 4;

/** 1234567 → "1,234,567". */
export function thousands(n: number): string {
  return n.toLocaleString('en-US');
}

/** Bytes as a person reads them: "2.1 GB", "704 MB" (decimal units, three significant digits). */
export function bytesText(n: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let u = 0;
  let v = n;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : Number(v.toPrecision(3))} ${units[u]}`;
}

/** "needs 2.1 GB, more than this adapter's largest buffer (maxStorageBufferBindingSize, 1.07 GB)". */
export function beyond(bytes: number, cap: BufferCap): string {
  return `needs ${bytesText(bytes)}, more than this adapter's largest buffer (${cap.name}, ${bytesText(cap.bytes)})`;
}
