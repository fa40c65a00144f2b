// Reading zip archives (MovieLens zips, Omniglot's PNG zips and npz files), every entry checked
// against the size and CRC-32 in the zip's central directory. fflate inflates; its own unzipSync
// is not used because it neither checks nor exposes the CRCs, so a damaged entry would decode
// silently wrong, and its errors do not say which entry is at fault. Browser-safe.
import CRC32 from 'crc-32';
import { inflateSync, strFromU8 } from 'fflate';
import { DataError } from './errors.ts';

export interface ZipEntry {
  name: string;
  method: number;
  /** General-purpose flags: bit 0 encrypted, bit 11 UTF-8 name. */
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's local header. */
  offset: number;
}

const END = 0x06054b50;
const END64_LOCATOR = 0x07064b50;
const END64 = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Whether the bytes start like a zip (or npz): "PK\3\4". */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4;
}

/** The central directory of a zip: every entry's name, sizes and CRC. */
export function zipEntries(bytes: Uint8Array, zipName: string): ZipEntry[] {
  const bad = (why: string): DataError => new DataError(`${zipName} is not a valid zip archive (${why}); it may be truncated or damaged.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end record sits in the last 22 bytes plus at most a 64 KB comment.
  let e = bytes.length - 22;
  const lowest = Math.max(0, bytes.length - 22 - 0xffff);
  while (e >= lowest && view.getUint32(e, true) !== END) e--;
  if (e < lowest) throw bad('no end of central directory');
  let count = view.getUint16(e + 10, true);
  let dir = view.getUint32(e + 16, true);
  if ((count === 0xffff || dir === 0xffffffff) && e >= 20 && view.getUint32(e - 20, true) === END64_LOCATOR) {
    const z = Number(view.getBigUint64(e - 12, true));
    if (z + 56 > bytes.length || view.getUint32(z, true) !== END64) throw bad('broken zip64 directory');
    count = Number(view.getBigUint64(z + 32, true));
    dir = Number(view.getBigUint64(z + 48, true));
  }
  const entries: ZipEntry[] = [];
  let p = dir;
  for (let i = 0; i < count; i++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== CENTRAL) throw bad(`entry ${i + 1} of ${count} is missing`);
    const flags = view.getUint16(p + 8, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    entries.push({
      name: strFromU8(bytes.subarray(p + 46, p + 46 + nameLength), !(flags & 0x800)),
      method: view.getUint16(p + 10, true),
      flags,
      crc: view.getUint32(p + 16, true),
      compressedSize: view.getUint32(p + 20, true),
      size: view.getUint32(p + 24, true),
      offset: view.getUint32(p + 42, true),
    });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** One entry's bytes, their size and CRC checked against the central directory. */
export function readZipEntry(bytes: Uint8Array, entry: ZipEntry, zipName: string): Uint8Array {
  const where = `${zipName}: ${entry.name}`;
  if (entry.size === 0xffffffff || entry.compressedSize === 0xffffffff || entry.offset === 0xffffffff) {
    throw new DataError(`${where} is larger than 4 GB (zip64), which this reader does not take: unzip it and pass the file.`);
  }
  if (entry.flags & 1) throw new DataError(`${where} is encrypted, which this reader does not take: unzip it and pass the file.`);
  if (entry.method !== 0 && entry.method !== 8) {
    throw new DataError(`${where} uses compression method ${entry.method}; only stored and deflate are read: unzip it and pass the file.`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = entry.offset;
  if (h + 30 > bytes.length || view.getUint32(h, true) !== LOCAL) throw new DataError(`${where} is damaged (no local header).`);
  // The local header's name and extra field may differ in length from the central directory's.
  const data = h + 30 + view.getUint16(h + 26, true) + view.getUint16(h + 28, true);
  const packed = bytes.subarray(data, data + entry.compressedSize);
  if (packed.length !== entry.compressedSize) throw new DataError(`${where} is cut short.`);
  let out: Uint8Array;
  if (entry.method === 0) out = packed.slice();
  else {
    try {
      out = inflateSync(packed, { out: new Uint8Array(entry.size) });
    } catch (err) {
      throw new DataError(`${where} is damaged (${err instanceof Error ? err.message : String(err)}).`);
    }
  }
  if (out.length !== entry.size || CRC32.buf(out) >>> 0 !== entry.crc) {
    throw new DataError(`${where} is damaged: its content does not match the zip's checksum.`);
  }
  return out;
}

/** Entries that are real files: not folders, not macOS resource forks. */
export function zipFiles(entries: readonly ZipEntry[]): ZipEntry[] {
  return entries.filter((e) => {
    const base = e.name.slice(e.name.lastIndexOf('/') + 1);
    return !e.name.endsWith('/') && !e.name.includes('__MACOSX/') && !base.startsWith('._');
  });
}

/**
 * The entries whose names `keep` accepts, read and checked, by name (a later entry of the same
 * name replaces an earlier one). Entries not kept are never inflated.
 */
export function unzipChecked(bytes: Uint8Array, zipName: string, keep: (name: string) => boolean): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const entry of zipEntries(bytes, zipName)) {
    if (keep(entry.name)) files.set(entry.name, readZipEntry(bytes, entry, zipName));
  }
  return files;
}
