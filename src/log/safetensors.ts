// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then
// the tensors' bytes, little-endian, back to back with no holes. Bytes in, bytes out: files
// are the caller's business.

export type StDType = 'F32' | 'U32' | 'I32';

export interface StTensor {
  dtype: StDType;
  shape: number[];
  data: Float32Array | Uint32Array | Int32Array;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

const ELEM_BYTES: Record<StDType, number> = { F32: 4, U32: 4, I32: 4 };

function dtypeOf(a: StTensor['data']): StDType {
  if (a instanceof Float32Array) return 'F32';
  if (a instanceof Uint32Array) return 'U32';
  return 'I32';
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function encodeSafetensors(tensors: Record<string, StTensor>, metadata: Record<string, string> = {}): Uint8Array {
  // Sorted names: the same tensors always give the same bytes.
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) throw new SafetensorsError(`tensor "${name}": shape [${t.shape.join(', ')}] holds ${numel} values, data has ${t.data.length}`);
    if (dtypeOf(t.data) !== t.dtype) throw new SafetensorsError(`tensor "${name}": dtype ${t.dtype} but data is ${t.data.constructor.name}`);
    const bytes = numel * ELEM_BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
  const encoded = new TextEncoder().encode(json);
  const pad = (8 - (encoded.length % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const d = tensors[name].data;
    if (littleEndian) {
      out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    } else {
      for (let i = 0; i < d.length; i++) {
        if (d instanceof Float32Array) view.setFloat32(at + i * 4, d[i], true);
        else view.setUint32(at + i * 4, d[i] >>> 0, true);
      }
    }
    at += d.byteLength;
  }
  return out;
}

export interface Decoded {
  tensors: Record<string, StTensor>;
  metadata: Record<string, string>;
}

/** Reads and checks a safetensors file: `source` names it in error messages. */
export function decodeSafetensors(bytes: Uint8Array, source = 'checkpoint'): Decoded {
  const fail = (why: string): never => {
    throw new SafetensorsError(`${source} is not a valid safetensors file: ${why}`);
  };
  if (bytes.length < 8) fail(`it has ${bytes.length} bytes, fewer than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > bytes.length - 8) fail(`the header claims ${n} bytes but only ${bytes.length - 8} follow`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  } catch (err) {
    return fail(`its header is not JSON (${(err as Error).message})`);
  }
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors: Record<string, StTensor> = {};
  const spans: [number, number, string][] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
        if (typeof val !== 'string') fail(`metadata "${k}" is not a string`);
        metadata[k] = val as string;
      }
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e.dtype !== 'F32' && e.dtype !== 'U32' && e.dtype !== 'I32') fail(`tensor "${name}" has dtype ${String(e.dtype)}; shadertrain reads F32, U32 and I32`);
    const dtype = e.dtype as StDType;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor "${name}" has a bad shape`);
    const shape = e.shape as number[];
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((x) => Number.isInteger(x))) fail(`tensor "${name}" has bad data_offsets`);
    const [begin, end] = off as [number, number];
    const numel = shape.reduce((a, b) => a * b, 1);
    if (!(begin <= end && end <= dataLen)) fail(`tensor "${name}" spans bytes ${begin}..${end} of a ${dataLen}-byte buffer`);
    if (end - begin !== numel * ELEM_BYTES[dtype]) fail(`tensor "${name}" [${shape.join(', ')}] ${dtype} needs ${numel * ELEM_BYTES[dtype]} bytes, its offsets give ${end - begin}`);
    spans.push([begin, end, name]);
    const raw = bytes.slice(dataStart + begin, dataStart + end);
    const data = dtype === 'F32' ? new Float32Array(numel) : dtype === 'U32' ? new Uint32Array(numel) : new Int32Array(numel);
    // A Node Buffer's slice is a view into a shared pool: read through its own offset.
    const rv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < numel; i++) {
      if (dtype === 'F32') (data as Float32Array)[i] = rv.getFloat32(i * 4, true);
      else if (dtype === 'U32') (data as Uint32Array)[i] = rv.getUint32(i * 4, true);
      else (data as Int32Array)[i] = rv.getInt32(i * 4, true);
    }
    tensors[name] = { dtype, shape, data };
  }
  // The format forbids holes and overlaps: the spans must tile the buffer exactly.
  spans.sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [b, e, name] of spans) {
    if (b !== at) fail(`tensor "${name}" starts at byte ${b}, expected ${at} (holes or overlaps)`);
    at = e;
  }
  if (at !== dataLen) fail(`${dataLen - at} bytes after the last tensor belong to none`);
  return { tensors, metadata };
}
