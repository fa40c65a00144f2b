// The zip reader shared by MovieLens and Omniglot: every entry checked against the central
// directory's size and CRC, and a sentence naming the zip and the entry for each kind of damage.
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { DataError } from '../src/data/errors.ts';
import { isZip, readZipEntry, unzipChecked, zipEntries, zipFiles } from '../src/data/zip.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const CONTENT = 'the quick brown fox jumps over the lazy dog\n'.repeat(20);

/** A one-entry zip and a copy with a field of its central directory entry rewritten. */
function oneEntry(level: 0 | 6): { zip: Uint8Array; edit: (field: number, value: number, bytes?: 2 | 4) => Uint8Array } {
  const zip = zipSync({ 'a/b.txt': text(CONTENT) }, { level });
  const dir = new DataView(zip.buffer).getUint32(zip.length - 22 + 16, true);
  const edit = (field: number, value: number, bytes: 2 | 4 = 4): Uint8Array => {
    const copy = zip.slice();
    const view = new DataView(copy.buffer);
    if (bytes === 2) view.setUint16(dir + field, value, true);
    else view.setUint32(dir + field, value, true);
    return copy;
  };
  return { zip, edit };
}

/** Where an entry's data starts: past its local header's name and extra field. */
function dataStart(zip: Uint8Array, offset: number): number {
  const view = new DataView(zip.buffer, zip.byteOffset);
  return offset + 30 + view.getUint16(offset + 26, true) + view.getUint16(offset + 28, true);
}

function readOnly(zip: Uint8Array, name = 'z.zip'): Uint8Array {
  return readZipEntry(zip, zipEntries(zip, name)[0], name);
}

describe('zip reader', () => {
  it('reads stored and deflated entries, with UTF-8 names, and inflates only the kept ones', () => {
    for (const level of [0, 6] as const) {
      const zip = zipSync({ 'a/b.txt': text(CONTENT), 'ü/é.txt': text('x'), 'c.bin': new Uint8Array([1, 2, 3]) }, { level });
      expect(isZip(zip)).toBe(true);
      const entries = zipEntries(zip, 'z.zip');
      const method = level ? 8 : 0;
      expect(entries.map((e) => [e.name, e.method, e.size])).toEqual([
        ['a/b.txt', method, CONTENT.length],
        ['ü/é.txt', method, 1],
        ['c.bin', method, 3],
      ]);
      expect(new TextDecoder().decode(readZipEntry(zip, entries[0], 'z.zip'))).toBe(CONTENT);
      // A damaged entry that is not kept is never read.
      const damaged = zip.slice();
      damaged[dataStart(zip, entries[2].offset)] ^= 1;
      const files = unzipChecked(damaged, 'z.zip', (n) => n.endsWith('.txt'));
      expect([...files.keys()]).toEqual(['a/b.txt', 'ü/é.txt']);
      expect(() => unzipChecked(damaged, 'z.zip', () => true)).toThrow(/^z\.zip: c\.bin is damaged[ :]/);
    }
  });

  it('refuses an entry whose bytes or size differ from the central directory, stored or deflated', () => {
    for (const level of [0, 6] as const) {
      const { zip, edit } = oneEntry(level);
      const changed = zip.slice();
      changed[dataStart(zip, zipEntries(zip, 'z.zip')[0].offset) + 5] ^= 0x20;
      expect(() => readOnly(changed), `level ${level}`).toThrow(/^z\.zip: a\/b\.txt is damaged: its content does not match the zip's checksum\.$/);
      expect(() => readOnly(edit(24, CONTENT.length - 1))).toThrow(/^z\.zip: a\/b\.txt is damaged: its content does not match the zip's checksum\.$/);
      expect(() => readOnly(edit(16, 12345))).toThrow(/^z\.zip: a\/b\.txt is damaged: its content does not match the zip's checksum\.$/);
      expect(() => readOnly(edit(16, 12345))).toThrow(DataError);
    }
    // Deflate data that is no deflate stream: fflate's reason is kept.
    const { zip } = oneEntry(6);
    const broken = zip.slice();
    broken[dataStart(zip, zipEntries(zip, 'z.zip')[0].offset)] = 0xff; // final block of the reserved type 3
    expect(() => readOnly(broken)).toThrow(/^z\.zip: a\/b\.txt is damaged \(invalid block type\)\.$/);
  });

  it('says what it does not read: other methods, encryption, zip64 sizes', () => {
    const { edit } = oneEntry(6);
    expect(() => readOnly(edit(10, 14, 2))).toThrow(/^z\.zip: a\/b\.txt uses compression method 14; only stored and deflate are read: unzip it and pass the file\.$/);
    expect(() => readOnly(edit(8, 1, 2))).toThrow(/^z\.zip: a\/b\.txt is encrypted, which this reader does not take: unzip it and pass the file\.$/);
    expect(() => readOnly(edit(24, 0xffffffff))).toThrow(/^z\.zip: a\/b\.txt is larger than 4 GB \(zip64\), which this reader does not take: unzip it and pass the file\.$/);
  });

  it('names a cut-short entry, a missing local header and a file that is no zip', () => {
    const { zip, edit } = oneEntry(6);
    expect(() => readOnly(edit(20, zip.length))).toThrow(/^z\.zip: a\/b\.txt is cut short\.$/);
    expect(() => readOnly(edit(42, 7))).toThrow(/^z\.zip: a\/b\.txt is damaged \(no local header\)\.$/);
    expect(() => zipEntries(text('PK\x03\x04 not really a zip'), 'fake.zip')).toThrow(
      /^fake\.zip is not a valid zip archive \(no end of central directory\); it may be truncated or damaged\.$/,
    );
    expect(() => zipEntries(zip.subarray(0, zip.length - 30), 'cut.zip')).toThrow(/^cut\.zip is not a valid zip archive \(no end of central directory\)/);
    const more = zip.slice();
    new DataView(more.buffer).setUint16(more.length - 22 + 10, 2, true);
    expect(() => zipEntries(more, 'm.zip')).toThrow(/^m\.zip is not a valid zip archive \(entry 2 of 2 is missing\); it may be truncated or damaged\.$/);
  });

  it('tells real files from folders and macOS metadata', () => {
    const zip = zipSync({ 'd/': new Uint8Array(0), 'd/u.data': text('1'), '__MACOSX/d/._u.data': text('x'), 'd/._x': text('y') });
    expect(zipFiles(zipEntries(zip, 'z.zip')).map((e) => e.name)).toEqual(['d/u.data']);
  });
});
