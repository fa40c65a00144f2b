// .npy files built here byte by byte from the format description, read back by the parser.
import { describe, expect, it } from 'vitest';
import { DataError } from '../src/data/errors.ts';
import { expectNpy, npyInteger, parseNpy } from '../src/data/npy.ts';

/** A version-1 .npy: magic, 1.0, u16 header length, the dict padded so data starts at a multiple of 64. */
function npy(header: string, data: Uint8Array, major = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  let h = header;
  while ((pre + h.length + 1) % 64 !== 0) h += ' ';
  h += '\n';
  const out = new Uint8Array(pre + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  out[8] = h.length & 255;
  out[9] = h.length >> 8;
  for (let i = 0; i < h.length; i++) out[pre + i] = h.charCodeAt(i);
  out.set(data, pre + h.length);
  return out;
}

describe('npy', () => {
  it('reads dtype, shape and data of a bool array (version 1) and a 0-d shape', () => {
    const a = parseNpy(npy("{'descr': '|b1', 'fortran_order': False, 'shape': (2, 3), }", Uint8Array.from([1, 0, 1, 1, 1, 0])), 'a.npy');
    expect(a.dtype).toBe('|b1');
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([1, 0, 1, 1, 1, 0]);
    const s = parseNpy(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (), }", Uint8Array.from([7, 0, 0, 0])), 's.npy');
    expect(s.shape).toEqual([]);
    expect(npyInteger(s, 0)).toBe(7);
  });

  it('reads little-endian int64 labels, negative ones too, and version 2 headers', () => {
    const data = new Uint8Array(24);
    const dv = new DataView(data.buffer);
    dv.setBigInt64(0, 5n, true);
    dv.setBigInt64(8, -2n, true);
    dv.setBigInt64(16, 2n ** 40n, true);
    const a = parseNpy(npy("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", data, 2), 'l.npy');
    expect(a.shape).toEqual([3]);
    expect([0, 1, 2].map((i) => npyInteger(a, i))).toEqual([5, -2, 2 ** 40]);
  });

  it('refuses bad magic, Fortran order, truncated data and structured dtypes with a sentence naming the file', () => {
    const good = npy("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", Uint8Array.from([1, 2, 3, 4]));
    expect(() => parseNpy(good.subarray(0, good.length - 1), 'x.npz: images.npy')).toThrow(
      /^x\.npz: images\.npy is not a valid \.npy array: it is truncated: shape \(4\) of '\|u1' needs 4 data bytes, found 3\.$/,
    );
    expect(() => parseNpy(good.subarray(0, 40), 'h.npy')).toThrow(/h\.npy .*header runs past the end/);
    const bad = good.slice();
    bad[1] = 0;
    expect(() => parseNpy(bad, 'm.npy')).toThrow(DataError);
    expect(() => parseNpy(bad, 'm.npy')).toThrow(/m\.npy .*magic/);
    expect(() => parseNpy(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", new Uint8Array(4)), 'f.npy')).toThrow(/f\.npy .*Fortran order/);
    expect(() => parseNpy(npy("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)), 'r.npy')).toThrow(/r\.npy .*lacks descr/);
    expect(() => parseNpy(npy("{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(12)), 'u.npy')).toThrow(/u\.npy .*'<U3' is not a plain number type/);
  });

  it('checks the expected dtype and shape', () => {
    const a = parseNpy(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 20, 3, 3), }", new Uint8Array(2 * 20 * 9 * 8)), 'im.npy');
    expect(() => expectNpy(a, 'im.npy', ['|b1'], [null, 20, null, null])).toThrow(/^im\.npy has dtype '<f8', expected '\|b1'\.$/);
    expect(() => expectNpy(a, 'im.npy', ['<f8'], [null, 19, null, null])).toThrow(/^im\.npy has shape \(2, 20, 3, 3\), expected \(N, 19, N, N\)\.$/);
    expect(() => expectNpy(a, 'im.npy', ['<f8'], [null, 20, null])).toThrow(/has shape/);
    expect(() => expectNpy(a, 'im.npy', ['<f8'], [2, 20, null, null])).not.toThrow();
  });
});
