// NumPy's .npy format (versions 1-3), bytes in, a typed view out. Only what the data sets here
// need: C-order arrays of plain little/big-endian scalars; structured dtypes and Fortran order
// are refused with a sentence naming the file.
//
// Layout: "\x93NUMPY", major, minor, header length (u16 LE for v1, u32 LE for v2/v3), then a
// Python dict literal {'descr': '<i8', 'fortran_order': False, 'shape': (3, 4), } padded with
// spaces and ended by '\n'; the raw data follows.
import { DataError } from './errors.ts';

export interface NpyArray {
  /** NumPy's descr string, e.g. '|b1', '<i8'. */
  dtype: string;
  shape: number[];
  /** The raw data, row-major, a view into the input. */
  data: Uint8Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const ITEM_SIZE: Record<string, number> = { b1: 1, u1: 1, i1: 1, u2: 2, i2: 2, u4: 4, i4: 4, f4: 4, u8: 8, i8: 8, f8: 8 };

/** Bytes per element of a simple descr ('|b1', '<i8', ...), or undefined if it is not one. */
export function npyItemSize(dtype: string): number | undefined {
  const m = /^([<>|=])([a-z]\d)$/.exec(dtype);
  return m ? ITEM_SIZE[m[2]] : undefined;
}

export function parseNpy(bytes: Uint8Array, name: string): NpyArray {
  const bad = (what: string): DataError => new DataError(`${name} is not a valid .npy array: ${what}.`);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw bad('it does not start with the \\x93NUMPY magic');
  const major = bytes[6];
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = bytes[8] | (bytes[9] << 8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw bad(`it has only ${bytes.length} bytes`);
    headerLen = (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (bytes[11] << 24)) >>> 0;
    start = 12;
  } else {
    throw bad(`format version ${major}.${bytes[7]} is not 1, 2 or 3`);
  }
  if (start + headerLen > bytes.length) throw bad(`its ${headerLen}-byte header runs past the end of its ${bytes.length} bytes`);
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeText) throw bad(`its header ${JSON.stringify(header.trim())} lacks descr, fortran_order or shape`);
  if (fortran[1] === 'True') throw bad('it is stored in Fortran order (column-major), which is not supported');
  const dtype = descr[1];
  const size = npyItemSize(dtype);
  if (size === undefined) throw bad(`its dtype '${dtype}' is not a plain number type`);
  const shape = shapeText[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isSafeInteger(n) || n < 0) throw bad(`its shape (${shapeText[1]}) has a bad dimension "${s}"`);
      return n;
    });
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  const want = count * size;
  if (bytes.length - dataStart !== want) {
    const what = bytes.length - dataStart < want ? 'is truncated' : 'has trailing bytes';
    throw bad(`it ${what}: shape (${shape.join(', ')}) of '${dtype}' needs ${want} data bytes, found ${bytes.length - dataStart}`);
  }
  return { dtype, shape, data: bytes.subarray(dataStart) };
}

/** Throws a DataError unless `a` has one of `dtypes` and a shape matching `shape` (null = any size). */
export function expectNpy(a: NpyArray, name: string, dtypes: readonly string[], shape: readonly (number | null)[]): void {
  if (!dtypes.includes(a.dtype)) {
    throw new DataError(`${name} has dtype '${a.dtype}', expected ${dtypes.map((d) => `'${d}'`).join(' or ')}.`);
  }
  const fits = a.shape.length === shape.length && shape.every((n, i) => n === null || a.shape[i] === n);
  if (!fits) {
    const want = shape.map((n) => (n === null ? 'N' : String(n))).join(', ');
    throw new DataError(`${name} has shape (${a.shape.join(', ')}), expected (${want}).`);
  }
}

/** Element i of an integer array ('<i8', '<i4', '|u1', ...) as a JS number (exact below 2^53). */
export function npyInteger(a: NpyArray, i: number): number {
  const size = npyItemSize(a.dtype) ?? 0;
  const little = a.dtype[0] !== '>';
  const view = new DataView(a.data.buffer, a.data.byteOffset + i * size, size);
  const kind = a.dtype[1];
  switch (`${kind}${size}`) {
    case 'b1':
    case 'u1':
      return view.getUint8(0);
    case 'i1':
      return view.getInt8(0);
    case 'u2':
      return view.getUint16(0, little);
    case 'i2':
      return view.getInt16(0, little);
    case 'u4':
      return view.getUint32(0, little);
    case 'i4':
      return view.getInt32(0, little);
    case 'u8':
      return Number(view.getBigUint64(0, little));
    case 'i8':
      return Number(view.getBigInt64(0, little));
    default:
      throw new Error(`npyInteger: '${a.dtype}' is not an integer dtype`);
  }
}
