// Omniglot from bytes (the browser-safe half): PNGs, zips of the official tree, npz archives,
// the packed form, and every kind of bad input, on small archives made here.
import { encode as encodePng } from 'fast-png';
import { zipSync, type Zippable } from 'fflate';
import { describe, expect, it } from 'vitest';
import { DataError } from '../src/data/errors.ts';
import {
  OMNIGLOT_ALPHABETS,
  assembleOmniglot,
  decodeDrawingPng,
  decodePackedOmniglot,
  encodePackedOmniglot,
  inkFraction,
  omniglotCharacterIndex,
  omniglotCharacterNames,
  preprocessOmniglotArchive,
} from '../src/data/omniglot.ts';
import type { OmniglotSet } from '../src/data/omniglot-set.ts';
import { resizeInk } from '../src/data/resize.ts';
import { zipEntries, type ZipEntry } from '../src/data/zip.ts';

const S = 105;

/** A 1-bit greyscale PNG (1 = white), rows packed MSB first, from an ink mask (255 = ink). */
function png1(ink: Uint8Array, w = S, h = S): Uint8Array {
  const rowBytes = Math.ceil(w / 8);
  const data = new Uint8Array(rowBytes * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (ink[y * w + x] === 0) data[y * rowBytes + (x >> 3)] |= 0x80 >> (x & 7);
  return encodePng({ width: w, height: h, data, depth: 1, channels: 1 });
}

/** A drawing unique to (character, drawer): a filled box whose place and size depend on both. */
function drawing(c: number, k: number): Uint8Array {
  const ink = new Uint8Array(S * S);
  const x0 = (c * 7) % 60;
  const y0 = (k * 5) % 60;
  const size = 12 + ((c + k) % 30);
  for (let y = y0; y < y0 + size; y++) for (let x = x0; x < x0 + size; x++) ink[y * S + x] = 255;
  return ink;
}

/** A zip of the official tree for the given "Alphabet/characterNN" names, 20 drawings each. */
function treeZip(root: string, names: string[], tweak?: (files: Zippable) => void, level: 0 | 1 = 1): Uint8Array {
  const files: Zippable = {};
  for (const name of names) {
    const c = omniglotCharacterIndex(name) as number;
    for (let k = 0; k < 20; k++) {
      files[`${root}/${name}/${String(c + 1).padStart(4, '0')}_${String(k + 1).padStart(2, '0')}.png`] = png1(drawing(c, k));
    }
  }
  tweak?.(files);
  return zipSync(files, { level });
}

/** images.npy '|b1' (N, 20, side, side) with True = white, and labels.npy '<i8' (N, 20). */
function npz(n: number, side: number, white: (c: number, k: number, p: number) => boolean, opts: { dtype?: string; label?: (c: number) => number } = {}): Uint8Array {
  const npyBytes = (descr: string, shape: number[], data: Uint8Array): Uint8Array => {
    let h = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
    while ((10 + h.length + 1) % 64) h += ' ';
    h += '\n';
    const out = new Uint8Array(10 + h.length + data.length);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 255, h.length >> 8]);
    for (let i = 0; i < h.length; i++) out[10 + i] = h.charCodeAt(i);
    out.set(data, 10 + h.length);
    return out;
  };
  const px = side * side;
  const images = new Uint8Array(n * 20 * px);
  for (let c = 0; c < n; c++) for (let k = 0; k < 20; k++) for (let p = 0; p < px; p++) images[(c * 20 + k) * px + p] = white(c, k, p) ? 1 : 0;
  const labels = new Uint8Array(n * 20 * 8);
  const dv = new DataView(labels.buffer);
  for (let i = 0; i < n * 20; i++) dv.setBigInt64(i * 8, BigInt(opts.label ? opts.label(Math.floor(i / 20)) : Math.floor(i / 20)), true);
  return zipSync({ 'images.npy': npyBytes(opts.dtype ?? '|b1', [n, 20, side, side], images), 'labels.npy': npyBytes('<i8', [n, 20], labels) });
}

describe('character order', () => {
  it('has 1623 characters, 964 background then 659 evaluation, each alphabet character01..NN', () => {
    const names = omniglotCharacterNames();
    expect(names.length).toBe(1623);
    expect(OMNIGLOT_ALPHABETS.filter((a) => a[2] === 'background').reduce((s, a) => s + a[1], 0)).toBe(964);
    expect(OMNIGLOT_ALPHABETS.length).toBe(50);
    expect(new Set(names).size).toBe(1623);
    expect(names[0]).toBe('Arcadian/character01');
    // Omniglot's numbering: 0709_01.png is Alphabet_of_the_Magi/character01 (characters.tsv).
    expect(omniglotCharacterIndex('Alphabet_of_the_Magi/character01')).toBe(708);
    expect(names[963]).toBe('Tifinagh/character55');
    expect(names[964]).toBe('Angelic/character01');
    expect(names[1622]).toBe('ULOG/character26');
    expect(omniglotCharacterIndex('Latin/character27')).toBeUndefined();
  });
});

describe('PNG drawings', () => {
  it('reads 1-bit PNGs as ink (black = 255) and 8-bit grey as 255 - grey', () => {
    const ink = drawing(3, 4);
    expect(Array.from(decodeDrawingPng(png1(ink), 'a.png').ink)).toEqual(Array.from(ink));
    const grey = Uint8Array.from({ length: 6 }, (_, i) => i * 50);
    const img = decodeDrawingPng(encodePng({ width: 3, height: 2, data: grey, depth: 8, channels: 1 }), 'g.png');
    expect([img.width, img.height, ...img.ink]).toEqual([3, 2, 255, 205, 155, 105, 55, 5]);
  });

  it('refuses damaged and colour PNGs, naming the file', () => {
    const bytes = png1(drawing(0, 0));
    const broken = bytes.slice();
    broken[bytes.length - 20] ^= 0xff; // inside IDAT or IEND: the CRC no longer matches
    expect(() => decodeDrawingPng(broken, 'x.zip: Latin/character01/0001_01.png')).toThrow(/^x\.zip: Latin\/character01\/0001_01\.png is not a valid PNG \(/);
    expect(() => decodeDrawingPng(bytes.subarray(0, 30), 'short.png')).toThrow(/^short\.png is not a valid PNG/);
    const rgb = encodePng({ width: 1, height: 1, data: Uint8Array.from([1, 2, 3]), depth: 8, channels: 3 });
    expect(() => decodeDrawingPng(rgb, 'c.png')).toThrow(/^c\.png is a 3-channel PNG; Omniglot drawings are greyscale\.$/);
  });
});

describe('zips of the official tree', () => {
  const names = ['Latin/character02', 'Korean/character01', 'Latin/character01', 'ULOG/character26'];

  it('puts characters in the fixed order, resized with the chosen filter', () => {
    const bytes = treeZip('images_background', names);
    for (const filter of ['nearest', 'area'] as const) {
      const set = assembleOmniglot(preprocessOmniglotArchive(bytes, 'b.zip', { filter }), filter);
      expect(set.names).toEqual(['Korean/character01', 'Latin/character01', 'Latin/character02', 'ULOG/character26']);
      expect([set.characters, set.drawings, set.side, set.filter]).toEqual([4, 20, 28, filter]);
      expect(set.binary).toBe(filter === 'nearest');
      set.names.forEach((name, i) => {
        const c = omniglotCharacterIndex(name) as number;
        for (const k of [0, 7, 19]) {
          const want = resizeInk(drawing(c, k), S, S, 28, 28, filter);
          const got = set.pixels.subarray((i * 20 + k) * 784, (i * 20 + k + 1) * 784);
          expect(Array.from(got), `${name} drawing ${k}`).toEqual(Array.from(want));
        }
      });
    }
  });

  it('names the archive and the entry for a corrupt PNG, a truncated zip, a short character and duplicates', () => {
    const bad = treeZip('images_background', names, (f) => {
      const k = 'images_background/Korean/character01/0643_05.png';
      const b = (f[k] as Uint8Array).slice();
      b[40] ^= 0x55;
      f[k] = b;
    });
    expect(() => preprocessOmniglotArchive(bad, 'images_background.zip')).toThrow(
      /^images_background\.zip: images_background\/Korean\/character01\/0643_05\.png is not a valid PNG/,
    );
    const good = treeZip('x', names);
    expect(() => preprocessOmniglotArchive(good.subarray(0, good.length - 100), 'cut.zip')).toThrow(/^cut\.zip is not a valid zip archive \(.*\); it may be truncated or damaged\.$/);
    expect(() => preprocessOmniglotArchive(good.subarray(0, good.length - 100), 'cut.zip')).toThrow(DataError);
    // Another data set given as Omniglot (MovieLens' u.data) is named as such, not as a damaged zip.
    const ratings = new TextEncoder().encode('196\t242\t3\t881250949\n186\t302\t3\t891717742\n');
    expect(() => preprocessOmniglotArchive(ratings, 'u.data')).toThrow(
      /^u\.data is not Omniglot: it is a text file \(it starts "196 242 3 881250949"\); give Omniglot's images_background and images_evaluation \(folders, zips or \.npz files\)$/,
    );
    expect(() => preprocessOmniglotArchive(new Uint8Array([0, 1, 2, 3]), 'x.bin')).toThrow(/^x\.bin is not Omniglot: it is neither a zip nor an npz archive;/);
    const short = treeZip('x', names, (f) => delete f['x/Latin/character02/0684_20.png']);
    expect(() => preprocessOmniglotArchive(short, 's.zip')).toThrow(/^s\.zip: x\/Latin\/character02 has 19 PNG drawings; an Omniglot character has 20\.$/);
    // The same character twice: kept once when the drawings agree, refused when they differ.
    const twice = treeZip('a', ['Latin/character01']);
    const same = [...preprocessOmniglotArchive(twice, 'one.zip'), ...preprocessOmniglotArchive(twice, 'two.zip')];
    expect(assembleOmniglot(same, 'nearest').names).toEqual(['Latin/character01']);
    const other = treeZip('b', ['Latin/character01'], (f) => (f['b/Latin/character01/0683_03.png'] = png1(drawing(5, 5))));
    const differ = [...preprocessOmniglotArchive(twice, 'one.zip'), ...preprocessOmniglotArchive(other, 'two.zip')];
    expect(() => assembleOmniglot(differ, 'nearest')).toThrow(
      /^Omniglot character Latin\/character01 was found twice with different drawings: one\.zip: a\/Latin\/character01 and two\.zip: b\/Latin\/character01; point at one of them\.$/,
    );
  });

  it('refuses a PNG changed inside the zip (its CRC), stored or deflated, naming the zip and the entry', () => {
    const entry = 'images_background/Korean/character01/0643_05.png';
    for (const level of [0, 1] as const) {
      const zip = treeZip('images_background', names, undefined, level);
      const e = zipEntries(zip, 'z').find((x) => x.name === entry) as ZipEntry;
      const view = new DataView(zip.buffer, zip.byteOffset);
      const data = e.offset + 30 + view.getUint16(e.offset + 26, true) + view.getUint16(e.offset + 28, true);
      const damaged = zip.slice();
      damaged[data + (e.compressedSize >> 1)] ^= 0x01;
      expect(() => preprocessOmniglotArchive(damaged, 'images_background.zip'), `level ${level}`).toThrow(
        /^images_background\.zip: images_background\/Korean\/character01\/0643_05\.png is damaged: its content does not match the zip's checksum\.$/,
      );
    }
  });

  it('ignores files outside Alphabet/characterNN and macOS metadata', () => {
    const bytes = treeZip('r', ['Greek/character03'], (f) => {
      f['r/Greek/README.png'] = png1(drawing(0, 0));
      f['__MACOSX/r/Greek/character03/._0001_01.png'] = new Uint8Array(10);
      f['r/Greek/character03/notes.txt'] = new Uint8Array(3);
    });
    const chars = preprocessOmniglotArchive(bytes, 'r.zip');
    expect(chars.map((c) => c.index)).toEqual([omniglotCharacterIndex('Greek/character03')]);
  });
});

describe('npz archives', () => {
  // 4×4 drawings keep the archive small; the shape check accepts any drawing size.
  const pattern = (c: number, k: number, p: number): boolean => ((c + k) % 5 === 0 ? p % 4 >= 2 : true); // left half ink, or blank

  it('reads the evaluation layout into characters 964.., True = white inverted to ink', () => {
    const chars = preprocessOmniglotArchive(npz(659, 4, pattern), 'images_evaluation.npz');
    const set = assembleOmniglot(chars, 'nearest');
    expect(set.characters).toBe(659);
    expect(set.names[0]).toBe('Angelic/character01');
    expect(set.names[658]).toBe('ULOG/character26');
    for (const [c, k] of [[0, 0], [0, 1], [3, 2], [658, 17]]) {
      const img = set.pixels.subarray((c * 20 + k) * 784, (c * 20 + k + 1) * 784);
      // Upsampling 4 → 28: output columns 0..13 read source columns 0..1.
      const want = Array.from({ length: 784 }, (_, p) => ((c + k) % 5 === 0 && p % 28 < 14 ? 255 : 0));
      expect(Array.from(img), `character ${c} drawing ${k}`).toEqual(want);
    }
  });

  it('refuses a wrong dtype, a wrong character count, wrong labels and a truncated archive', () => {
    expect(() => preprocessOmniglotArchive(npz(659, 2, () => true, { dtype: '|u1' }), 'e.npz')).toThrow(/^e\.npz: images\.npy has dtype '\|u1', expected '\|b1'\.$/);
    expect(() => preprocessOmniglotArchive(npz(10, 2, () => true), 'ten.npz')).toThrow(
      /^ten\.npz: images\.npy holds 10 characters; Omniglot's background set has 964 and its evaluation set 659\.$/,
    );
    expect(() => preprocessOmniglotArchive(npz(659, 2, () => true, { label: (c) => (c === 7 ? 8 : c) }), 'l.npz')).toThrow(
      /^l\.npz: labels\.npy row 7 holds label 8, expected the row index 7\.$/,
    );
    const good = npz(659, 2, () => true);
    expect(() => preprocessOmniglotArchive(good.subarray(0, good.length - 30), 't.npz')).toThrow(/^t\.npz is not a valid zip archive/);
  });
});

describe('packed form', () => {
  function smallSet(binary: boolean): OmniglotSet {
    const names = ['Latin/character01', 'Korean/character02', 'ULOG/character26'];
    const pixels = Uint8Array.from({ length: 3 * 20 * 784 }, (_, i) => (binary ? ((i * 7919) % 13 < 2 ? 255 : 0) : (i * 31) % 256));
    return { characters: 3, drawings: 20, side: 28, filter: binary ? 'nearest' : 'lanczos', binary, pixels, names };
  }

  it('round-trips binary sets at 1 bit per pixel and others at 8, compressed or stored', () => {
    for (const binary of [true, false]) {
      for (const compress of [true, false]) {
        const set = smallSet(binary);
        const bytes = encodePackedOmniglot(set, { compress });
        if (binary && !compress) expect(bytes.length).toBe(36 + set.names.join('\n').length + (3 * 20 * 784) / 8);
        const back = decodePackedOmniglot(bytes, 'p.bin');
        expect({ ...back, pixels: null }).toEqual({ ...set, pixels: null });
        expect(back.pixels.length).toBe(set.pixels.length);
        expect(back.pixels.findIndex((v, i) => v !== set.pixels[i])).toBe(-1);
      }
    }
  });

  it('writes the documented header', () => {
    const bytes = encodePackedOmniglot(smallSet(true), { compress: false });
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe('OMNIPACK');
    expect([dv.getUint16(8, true), bytes[10], bytes[11], dv.getUint32(12, true), dv.getUint16(16, true), dv.getUint16(18, true), bytes[20]]).toEqual([1, 1, 0, 3, 20, 28, 0]);
    const names = 'Latin/character01\nKorean/character02\nULOG/character26';
    expect(dv.getUint32(28, true)).toBe(names.length);
    expect(new TextDecoder().decode(bytes.subarray(36, 36 + names.length))).toBe(names);
    // Pixels 0..7 of the pattern: (i·7919) mod 13 = 2i mod 13 = 0, 2, 4, 6, 8, 10, 12, 1, so
    // pixels 0 and 7 are ink: 0b10000001, most significant bit first.
    expect(bytes[36 + names.length]).toBe(0x81);
  });

  it('refuses damaged bytes with a sentence naming the file', () => {
    const bytes = encodePackedOmniglot(smallSet(true), { compress: true });
    expect(() => decodePackedOmniglot(bytes.subarray(0, 20), 'a.bin')).toThrow(/^a\.bin is not a valid packed Omniglot set: it has 20 bytes/);
    expect(() => decodePackedOmniglot(bytes.subarray(0, bytes.length - 50), 'b.bin')).toThrow(/^b\.bin is not a valid packed Omniglot set: .*truncated/);
    const flipped = encodePackedOmniglot(smallSet(true), { compress: false });
    flipped[flipped.length - 5] ^= 1;
    expect(() => decodePackedOmniglot(flipped, 'c.bin')).toThrow(/^c\.bin is not a valid packed Omniglot set: its checksum does not match; it is damaged\.$/);
    const magic = bytes.slice();
    magic[0] = 0x41;
    expect(() => decodePackedOmniglot(magic, 'd.bin')).toThrow(/does not start with "OMNIPACK"/);
  });

  it('counts ink', () => {
    expect(inkFraction(smallSet(true))).toBeCloseTo(2 / 13, 3);
  });
});
