// Checkpoint bytes against the safetensors format itself, not only a round trip.
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../src/log/safetensors.ts';

describe('safetensors', () => {
  const tensors = {
    b: { dtype: 'U32' as const, shape: [1], data: new Uint32Array([7]) },
    a: { dtype: 'F32' as const, shape: [2], data: new Float32Array([1, -2]) },
  };

  it('writes the header length, the JSON header and little-endian data as the format specifies', () => {
    const bytes = encodeSafetensors(tensors, { step: '3' });
    const json =
      '{"__metadata__":{"step":"3"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U32","shape":[1],"data_offsets":[8,12]}}';
    const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
    // u64 little-endian header length
    const n = padded.length;
    expect(Array.from(bytes.subarray(0, 8))).toEqual([n & 255, n >> 8, 0, 0, 0, 0, 0, 0]);
    expect(new TextDecoder().decode(bytes.subarray(8, 8 + n))).toBe(padded);
    expect((8 + n) % 8).toBe(0);
    // 1.0f = 0x3f800000, -2.0f = 0xc0000000, 7u, all little-endian, in name order
    expect(Array.from(bytes.subarray(8 + n))).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 7, 0, 0, 0]);
  });

  it('reads back what it wrote', () => {
    const d = decodeSafetensors(encodeSafetensors(tensors, { step: '3' }));
    expect(d.metadata).toEqual({ step: '3' });
    expect(Array.from(d.tensors.a.data)).toEqual([1, -2]);
    expect(d.tensors.b).toMatchObject({ dtype: 'U32', shape: [1] });
  });

  it('reads a file whose slices are views into a larger buffer (a Node Buffer from its shared pool)', () => {
    // Buffer.prototype.slice returns a view, not a copy, of a pool that holds other bytes first.
    class PoolView extends Uint8Array {
      override slice(start?: number, end?: number): Uint8Array<ArrayBuffer> {
        return this.subarray(start, end);
      }
    }
    const bytes = encodeSafetensors(tensors);
    const pool = new PoolView(bytes.length + 24);
    pool.set(bytes, 16);
    const d = decodeSafetensors(pool.subarray(16, 16 + bytes.length));
    expect(Array.from(d.tensors.a.data)).toEqual([1, -2]);
    expect(Array.from(d.tensors.b.data)).toEqual([7]);
  });

  it('rejects truncated files, holes and bad offsets with a sentence naming the file', () => {
    const good = encodeSafetensors(tensors);
    expect(() => decodeSafetensors(good.subarray(0, 5), 'ck.safetensors')).toThrow(/ck\.safetensors is not a valid safetensors file: it has 5 bytes/);
    expect(() => decodeSafetensors(good.subarray(0, good.length - 4), 'ck')).toThrow(/spans bytes 8\.\.12 of a 8-byte buffer/);
    const withExtra = new Uint8Array(good.length + 4);
    withExtra.set(good);
    expect(() => decodeSafetensors(withExtra, 'ck')).toThrow(/4 bytes after the last tensor/);
    const json = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    const bad = new Uint8Array(8 + json.length + 8);
    new DataView(bad.buffer).setBigUint64(0, BigInt(json.length), true);
    bad.set(new TextEncoder().encode(json), 8);
    expect(() => decodeSafetensors(bad, 'ck')).toThrow(/starts at byte 4, expected 0/);
  });
});
