// Omniglot, bytes in, OmniglotSet out: the same code in Node and in a browser (no fs here; the
// Node side is omniglot-node.ts).
//
// Character order (the set's fixed order): Omniglot's own character numbering, the 4-digit
// prefix of every PNG name (0001_01.png ... 1623_20.png), which is also the row order of the
// npz archives and of characters.tsv in shared/data/omniglot. That is the 30 background
// alphabets, then the 20 evaluation alphabets, and within an alphabet character01, 02, ...
// Within each set the alphabets are alphabetical by Lake's short alphabet names (Estrangelo,
// Futhorc, Hiragana, Jawi, Magi, Myanmar, ...), not by folder name: e.g. Syriac_(Estrangelo)
// follows Early_Aramaic and Alphabet_of_the_Magi follows Latin. OMNIGLOT_ALPHABETS spells it out.
//
// Sources, all giving the same pixels (the npz arrays were built from the official PNGs):
//  - the official PNG tree, ALPHABET/characterNN/NNNN_DD.png, possibly under images_background/
//    and images_evaluation/ (or the small1/small2 subsets): characters are found by their
//    folder names, drawings taken in file-name order;
//  - zips holding such a tree (images_background.zip, images_evaluation.zip, ...);
//  - the numpy archives images_background.npz / images_evaluation.npz: images.npy '|b1'
//    (N, 20, H, W) with True = white, labels.npy (N, 20) equal to the row index; N = 964 is the
//    background set, N = 659 the evaluation set.
// A partial source (say only the small zips) gives the characters it holds, still in the fixed
// order; `names` says which.
//
// Packed form (the embedded default and the Node cache), little-endian:
//   0  8 bytes  magic "OMNIPACK"
//   8  u16      version (1)
//  10  u8       bits per pixel: 1 (pixel != 0, MSB first, set only for binary sets) or 8
//  11  u8       filter: 0 nearest, 1 area, 2 lanczos
//  12  u32      characters
//  16  u16      drawings per character
//  18  u16      side
//  20  u8       compression: 0 stored, 1 raw deflate
//  21  3 bytes  zero
//  24  u32      body bytes (uncompressed)
//  28  u32      names bytes (UTF-8, '\n'-joined, at the start of the body)
//  32  u32      CRC-32 of the uncompressed body
//  36  body: names, then pixels ([character][drawing][side·side], bit-packed when 1 bpp)
import CRC32 from 'crc-32';
import { deflateSync, inflateSync } from 'fflate';
import { decode as decodePng, type DecodedPng } from 'fast-png';
import { DataError } from './errors.ts';
import { expectNpy, npyInteger, parseNpy } from './npy.ts';
import { OMNIGLOT_DRAWINGS, OMNIGLOT_SIDE, type OmniglotSet, type ResizeFilter } from './omniglot-set.ts';
import { BOOL_WHITE_LUT, INK_LUT, Resizer } from './resize.ts';
import { unzipChecked } from './zip.ts';

/** [alphabet folder, characters, set] in the fixed order (characters.tsv, Omniglot's numbering). */
export const OMNIGLOT_ALPHABETS: readonly (readonly [string, number, 'background' | 'evaluation'])[] = [
  ...(
    [
      ['Arcadian', 26],
      ['Armenian', 41],
      ['Asomtavruli_(Georgian)', 40],
      ['Balinese', 24],
      ['Bengali', 46],
      ['Blackfoot_(Canadian_Aboriginal_Syllabics)', 14],
      ['Braille', 26],
      ['Cyrillic', 33],
      ['Early_Aramaic', 22],
      ['Syriac_(Estrangelo)', 23],
      ['Anglo-Saxon_Futhorc', 29],
      ['Futurama', 26],
      ['Grantha', 43],
      ['Greek', 24],
      ['Gujarati', 48],
      ['Hebrew', 22],
      ['Japanese_(hiragana)', 52],
      ['Inuktitut_(Canadian_Aboriginal_Syllabics)', 16],
      ['Malay_(Jawi_-_Arabic)', 40],
      ['Japanese_(katakana)', 47],
      ['Korean', 40],
      ['Latin', 26],
      ['Alphabet_of_the_Magi', 20],
      ['Mkhedruli_(Georgian)', 41],
      ['Burmese_(Myanmar)', 34],
      ['N_Ko', 33],
      ['Ojibwe_(Canadian_Aboriginal_Syllabics)', 14],
      ['Sanskrit', 42],
      ['Tagalog', 17],
      ['Tifinagh', 55],
    ] as const
  ).map(([a, n]) => [a, n, 'background'] as const),
  ...(
    [
      ['Angelic', 20],
      ['Atemayar_Qelisayer', 26],
      ['Atlantean', 26],
      ['Aurek-Besh', 26],
      ['Avesta', 26],
      ['Ge_ez', 26],
      ['Glagolitic', 45],
      ['Gurmukhi', 45],
      ['Kannada', 41],
      ['Keble', 26],
      ['Malayalam', 47],
      ['Manipuri', 40],
      ['Mongolian', 30],
      ['Old_Church_Slavonic_(Cyrillic)', 45],
      ['Oriya', 46],
      ['Syriac_(Serto)', 23],
      ['Sylheti', 28],
      ['Tengwar', 25],
      ['Tibetan', 42],
      ['ULOG', 26],
    ] as const
  ).map(([a, n]) => [a, n, 'evaluation'] as const),
];

/** Characters in the background set (the first 964 of the fixed order). */
export const OMNIGLOT_BACKGROUND_CHARACTERS = 964;
export const OMNIGLOT_EVALUATION_CHARACTERS = 659;

let allNames: string[] | undefined;
let nameIndex: Map<string, number> | undefined;

/** "Alphabet/characterNN" for all 1623 characters, in the fixed order. */
export function omniglotCharacterNames(): readonly string[] {
  if (!allNames) {
    allNames = [];
    for (const [alphabet, n] of OMNIGLOT_ALPHABETS) {
      for (let c = 1; c <= n; c++) allNames.push(`${alphabet}/character${String(c).padStart(2, '0')}`);
    }
  }
  return allNames;
}

/** Position of "Alphabet/characterNN" in the fixed order, or undefined if it is no Omniglot character. */
export function omniglotCharacterIndex(name: string): number | undefined {
  nameIndex ??= new Map(omniglotCharacterNames().map((n, i) => [n, i]));
  return nameIndex.get(name);
}

/** One preprocessed character: its place in the fixed order and its 20 drawings at side×side. */
export interface OmniglotCharacter {
  index: number;
  /** Where it came from, for error messages: "images_background.zip: Latin/character01". */
  origin: string;
  pixels: Uint8Array;
}

export interface PreprocessOptions {
  filter?: ResizeFilter;
  side?: number;
}

/** Resizers by input size: drawings are all 105×105, but nothing depends on it. */
class ResizerCache {
  private readonly map = new Map<string, Resizer>();
  constructor(
    readonly filter: ResizeFilter,
    readonly side: number,
  ) {}
  get(w: number, h: number): Resizer {
    const key = `${w}x${h}`;
    let r = this.map.get(key);
    if (!r) this.map.set(key, (r = new Resizer(this.filter, w, h, this.side, this.side)));
    return r;
  }
}

// ---- PNG drawings ---------------------------------------------------------------------------

/** A decoded drawing as ink: 0 = background, 255 = ink, row-major width×height. */
export interface InkImage {
  width: number;
  height: number;
  ink: Uint8Array;
}

/** Decodes a greyscale PNG (any bit depth, with or without alpha, which is ignored) to ink. */
export function decodeDrawingPng(bytes: Uint8Array, name: string): InkImage {
  let png: DecodedPng;
  try {
    png = decodePng(bytes, { checkCrc: true });
  } catch (err) {
    throw new DataError(`${name} is not a valid PNG (${(err as Error).message}).`);
  }
  const { width, height, depth, channels, data } = png;
  if (png.palette || (channels !== 1 && channels !== 2)) {
    throw new DataError(`${name} is a ${png.palette ? 'palette' : `${channels}-channel`} PNG; Omniglot drawings are greyscale.`);
  }
  const ink = new Uint8Array(width * height);
  if (depth < 8) {
    // Packed rows, MSB first, each row padded to a whole byte (only without alpha: PNG has no
    // grey+alpha below 8 bits).
    const rowBytes = Math.ceil((width * depth) / 8);
    const maxV = (1 << depth) - 1;
    const mask = maxV;
    if (data.length < rowBytes * height) throw new DataError(`${name} is not a valid PNG (short pixel data).`);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const bit = x * depth;
        const v = (data[y * rowBytes + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
        ink[y * width + x] = 255 - Math.round((v * 255) / maxV);
      }
    }
  } else {
    const shift = depth === 16 ? 1 : 0;
    for (let i = 0; i < width * height; i++) {
      const v = data[i * channels];
      ink[i] = 255 - (shift ? Math.round(v / 257) : v);
    }
  }
  return { width, height, ink };
}

/** "…/Alphabet/characterNN/file.png" → index, name and file, or undefined for anything else. */
export function omniglotPngPlace(path: string): { index: number; name: string; file: string } | undefined {
  const parts = path.split(/[\\/]/).filter((p) => p !== '');
  if (parts.length < 3 || parts.includes('__MACOSX')) return undefined;
  const file = parts[parts.length - 1];
  if (!/\.png$/i.test(file) || file.startsWith('.')) return undefined;
  const name = `${parts[parts.length - 3]}/${parts[parts.length - 2]}`;
  const index = omniglotCharacterIndex(name);
  return index === undefined ? undefined : { index, name, file };
}

/** "archive.zip: inner/path", or the path alone when there is no archive. */
function within(label: string, path: string): string {
  return label ? `${label}: ${path}` : path;
}

/** A PNG file of the official tree: its path (relative or not) and its bytes. */
export interface DrawingFile {
  path: string;
  bytes: Uint8Array;
}

/**
 * Preprocesses PNG drawings laid out as …/Alphabet/characterNN/*.png. Files elsewhere are
 * ignored; each character found must have exactly 20 drawings. `label` names the source
 * (a zip) in messages; '' when the paths name themselves (files on disk).
 */
export function preprocessDrawingFiles(files: readonly DrawingFile[], label: string, opts: PreprocessOptions = {}): OmniglotCharacter[] {
  const filter = opts.filter ?? 'nearest';
  const side = opts.side ?? OMNIGLOT_SIDE;
  // By folder: one character may sit in two folders (small1 and small2 share Greek and Latin);
  // assembleOmniglot keeps one copy when their drawings agree.
  const byDir = new Map<string, { index: number; dir: string; files: DrawingFile[] }>();
  for (const f of files) {
    const place = omniglotPngPlace(f.path);
    if (!place) continue;
    const dir = f.path.slice(0, f.path.length - place.file.length - 1);
    let c = byDir.get(dir);
    if (!c) byDir.set(dir, (c = { index: place.index, dir, files: [] }));
    c.files.push(f);
  }
  const resizers = new ResizerCache(filter, side);
  const out: OmniglotCharacter[] = [];
  for (const c of [...byDir.values()].sort((a, b) => a.index - b.index || (a.dir < b.dir ? -1 : 1))) {
    const index = c.index;
    if (c.files.length !== OMNIGLOT_DRAWINGS) {
      throw new DataError(`${within(label, c.dir)} has ${c.files.length} PNG drawings; an Omniglot character has ${OMNIGLOT_DRAWINGS}.`);
    }
    c.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const pixels = new Uint8Array(OMNIGLOT_DRAWINGS * side * side);
    c.files.forEach((f, k) => {
      const img = decodeDrawingPng(f.bytes, within(label, f.path));
      resizers.get(img.width, img.height).run(img.ink, 0, INK_LUT, pixels, k * side * side);
    });
    out.push({ index, origin: within(label, c.dir), pixels });
  }
  return out;
}

// ---- archives (zip of PNGs, npz) --------------------------------------------------------------

/** The archive's PNGs or its npy arrays, each checked against the zip's CRC; nothing else is inflated. */
function unzipArchive(bytes: Uint8Array, label: string): Map<string, Uint8Array> {
  notOmniglot(bytes, label);
  return unzipChecked(bytes, label, (name) => /\.png$/i.test(name) || name === 'images.npy' || name === 'labels.npy');
}

/**
 * A file that is no zip at all (zip and npz both start with "PK") is some other data set, such as
 * MovieLens' u.data given as --data: said so, rather than as a damaged archive.
 */
function notOmniglot(bytes: Uint8Array, label: string): void {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return;
  const head = bytes.subarray(0, 256);
  const text = head.length > 0 && head.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
  const line = text ? new TextDecoder().decode(head).split(/\r?\n/)[0].replaceAll('\t', ' ').slice(0, 40) : '';
  const what = text ? `a text file (it starts "${line}")` : bytes.length ? 'neither a zip nor an npz archive' : 'empty';
  throw new DataError(`${label} is not Omniglot: it is ${what}; give Omniglot's images_background and images_evaluation (folders, zips or .npz files)`);
}

function preprocessNpz(imagesNpy: Uint8Array, labelsNpy: Uint8Array | undefined, label: string, filter: ResizeFilter, side: number): OmniglotCharacter[] {
  const images = parseNpy(imagesNpy, `${label}: images.npy`);
  expectNpy(images, `${label}: images.npy`, ['|b1'], [null, OMNIGLOT_DRAWINGS, null, null]);
  const [n, , h, w] = images.shape;
  let base: number;
  if (n === OMNIGLOT_BACKGROUND_CHARACTERS) base = 0;
  else if (n === OMNIGLOT_EVALUATION_CHARACTERS) base = OMNIGLOT_BACKGROUND_CHARACTERS;
  else {
    throw new DataError(
      `${label}: images.npy holds ${n} characters; Omniglot's background set has ${OMNIGLOT_BACKGROUND_CHARACTERS} and its evaluation set ${OMNIGLOT_EVALUATION_CHARACTERS}.`,
    );
  }
  if (labelsNpy) {
    const labels = parseNpy(labelsNpy, `${label}: labels.npy`);
    expectNpy(labels, `${label}: labels.npy`, ['<i8', '<i4'], [n, OMNIGLOT_DRAWINGS]);
    for (let i = 0; i < n * OMNIGLOT_DRAWINGS; i++) {
      const c = Math.floor(i / OMNIGLOT_DRAWINGS);
      const v = npyInteger(labels, i);
      if (v !== c) throw new DataError(`${label}: labels.npy row ${c} holds label ${v}, expected the row index ${c}.`);
    }
  }
  const resizer = new Resizer(filter, w, h, side, side);
  const names = omniglotCharacterNames();
  const out: OmniglotCharacter[] = [];
  for (let c = 0; c < n; c++) {
    const pixels = new Uint8Array(OMNIGLOT_DRAWINGS * side * side);
    for (let k = 0; k < OMNIGLOT_DRAWINGS; k++) resizer.run(images.data, (c * OMNIGLOT_DRAWINGS + k) * w * h, BOOL_WHITE_LUT, pixels, k * side * side);
    out.push({ index: base + c, origin: `${label}: images.npy[${c}] (${names[base + c]})`, pixels });
  }
  return out;
}

/**
 * A zip of the official PNG tree (images_background.zip, images_background_small1.zip, ...) or
 * an npz (images.npy + labels.npy), preprocessed. `label` names the archive in messages.
 */
export function preprocessOmniglotArchive(bytes: Uint8Array, label: string, opts: PreprocessOptions = {}): OmniglotCharacter[] {
  const filter = opts.filter ?? 'nearest';
  const side = opts.side ?? OMNIGLOT_SIDE;
  const files = unzipArchive(bytes, label);
  const images = files.get('images.npy');
  if (images) return preprocessNpz(images, files.get('labels.npy'), label, filter, side);
  const drawings = [...files]
    .filter(([p]) => /\.png$/i.test(p))
    .map(([path, b]) => ({ path, bytes: b }));
  return preprocessDrawingFiles(drawings, label, { filter, side });
}

// ---- the set ----------------------------------------------------------------------------------

/**
 * Puts characters from any number of sources into the fixed order. A character found twice is
 * kept once when both copies preprocess to the same pixels (overlapping official subsets), and
 * is an error otherwise.
 */
export function assembleOmniglot(chars: readonly OmniglotCharacter[], filter: ResizeFilter, side = OMNIGLOT_SIDE): OmniglotSet {
  const sorted: OmniglotCharacter[] = [];
  for (const c of [...chars].sort((a, b) => a.index - b.index)) {
    const prev = sorted[sorted.length - 1];
    if (prev?.index !== c.index) {
      sorted.push(c);
      continue;
    }
    if (prev.pixels.length !== c.pixels.length || prev.pixels.some((v, i) => v !== c.pixels[i])) {
      throw new DataError(
        `Omniglot character ${omniglotCharacterNames()[c.index]} was found twice with different drawings: ${prev.origin} and ${c.origin}; point at one of them.`,
      );
    }
  }
  const per = OMNIGLOT_DRAWINGS * side * side;
  const pixels = new Uint8Array(sorted.length * per);
  sorted.forEach((c, i) => pixels.set(c.pixels, i * per));
  const names = omniglotCharacterNames();
  return {
    characters: sorted.length,
    drawings: OMNIGLOT_DRAWINGS,
    side,
    filter,
    binary: isBinary(pixels),
    pixels,
    names: sorted.map((c) => names[c.index]),
  };
}

function isBinary(pixels: Uint8Array): boolean {
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i];
    if (v !== 0 && v !== 255) return false;
  }
  return true;
}

/** Fraction of pixels that are ink (> 127). */
export function inkFraction(set: OmniglotSet): number {
  let n = 0;
  for (let i = 0; i < set.pixels.length; i++) if (set.pixels[i] > 127) n++;
  return n / set.pixels.length;
}

// ---- packed form ------------------------------------------------------------------------------

const MAGIC = 'OMNIPACK';
const VERSION = 1;
const HEADER = 36;
const FILTERS: readonly ResizeFilter[] = ['nearest', 'area', 'lanczos'];

export interface PackOptions {
  /** Raw deflate (level 9) for the embedded asset; stored for a cache that should load fast. */
  compress: boolean;
}

/** The packed bytes of a set: 1 bit per pixel when it is binary, else 8. */
export function encodePackedOmniglot(set: OmniglotSet, opts: PackOptions): Uint8Array {
  const names = new TextEncoder().encode(set.names.join('\n'));
  const n = set.pixels.length;
  const bpp = set.binary ? 1 : 8;
  const pixelBytes = bpp === 1 ? Math.ceil(n / 8) : n;
  const body = new Uint8Array(names.length + pixelBytes);
  body.set(names, 0);
  if (bpp === 1) {
    const bits = body.subarray(names.length);
    for (let i = 0; i < n; i++) if (set.pixels[i] !== 0) bits[i >> 3] |= 0x80 >> (i & 7);
  } else {
    body.set(set.pixels, names.length);
  }
  const stored = opts.compress ? deflateSync(body, { level: 9 }) : body;
  const out = new Uint8Array(HEADER + stored.length);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < MAGIC.length; i++) out[i] = MAGIC.charCodeAt(i);
  dv.setUint16(8, VERSION, true);
  out[10] = bpp;
  out[11] = FILTERS.indexOf(set.filter);
  dv.setUint32(12, set.characters, true);
  dv.setUint16(16, set.drawings, true);
  dv.setUint16(18, set.side, true);
  out[20] = opts.compress ? 1 : 0;
  dv.setUint32(24, body.length, true);
  dv.setUint32(28, names.length, true);
  dv.setUint32(32, CRC32.buf(body) >>> 0, true);
  out.set(stored, HEADER);
  return out;
}

/** Reads packed bytes back into a set; `name` names the file in messages. */
export function decodePackedOmniglot(bytes: Uint8Array, name = 'packed Omniglot set'): OmniglotSet {
  const bad = (what: string): DataError => new DataError(`${name} is not a valid packed Omniglot set: ${what}.`);
  if (bytes.length < HEADER) throw bad(`it has ${bytes.length} bytes, fewer than its ${HEADER}-byte header`);
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC.charCodeAt(i)) throw bad(`it does not start with "${MAGIC}"`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint16(8, true);
  if (version !== VERSION) throw bad(`version ${version} is not ${VERSION}`);
  const bpp = bytes[10];
  const filter = FILTERS[bytes[11]];
  const characters = dv.getUint32(12, true);
  const drawings = dv.getUint16(16, true);
  const side = dv.getUint16(18, true);
  const compression = bytes[20];
  const bodyLen = dv.getUint32(24, true);
  const namesLen = dv.getUint32(28, true);
  const crc = dv.getUint32(32, true);
  if ((bpp !== 1 && bpp !== 8) || !filter || compression > 1) throw bad(`its header is damaged (bits ${bpp}, filter ${bytes[11]}, compression ${compression})`);
  const n = characters * drawings * side * side;
  const pixelBytes = bpp === 1 ? Math.ceil(n / 8) : n;
  if (bodyLen !== namesLen + pixelBytes) throw bad(`its body is ${bodyLen} bytes, expected ${namesLen + pixelBytes}`);
  let body: Uint8Array;
  if (compression === 1) {
    try {
      body = inflateSync(bytes.subarray(HEADER), { out: new Uint8Array(bodyLen) });
    } catch (err) {
      throw bad(`its compressed body does not inflate (${(err as Error).message}); it may be truncated`);
    }
  } else {
    body = bytes.subarray(HEADER);
  }
  if (body.length !== bodyLen) throw bad(`its body holds ${body.length} bytes, expected ${bodyLen}; it may be truncated`);
  if (CRC32.buf(body) >>> 0 !== crc) throw bad('its checksum does not match; it is damaged');
  const names = namesLen ? new TextDecoder().decode(body.subarray(0, namesLen)).split('\n') : [];
  if (names.length !== characters) throw bad(`it names ${names.length} characters, expected ${characters}`);
  let pixels: Uint8Array;
  if (bpp === 1) {
    pixels = new Uint8Array(n);
    const bits = body.subarray(namesLen);
    // Most bytes are 0 (about 8% of pixels are ink): skip them whole.
    for (let b = 0; b < bits.length; b++) {
      const v = bits[b];
      if (v === 0) continue;
      const i0 = b * 8;
      for (let j = 0; j < 8 && i0 + j < n; j++) if (v & (0x80 >> j)) pixels[i0 + j] = 255;
    }
  } else {
    pixels = body.slice(namesLen);
  }
  return { characters, drawings, side, filter, binary: bpp === 1 || isBinary(pixels), pixels, names };
}
