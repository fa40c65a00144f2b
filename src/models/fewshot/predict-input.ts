// What few-shot prediction reads, as the front end hands it over: the support set (--support, a
// folder with one sub-folder per class, K PNG images in each) and the queries (--query, PNG
// files or a folder), each image preprocessed as training's were (decodeDrawingPng, the same
// Resizer to side×side, binarized where the training images were binary). Browser-safe.
import { convertIndexedToRgb, decode as decodePng, hasPngSignature, type DecodedPng } from 'fast-png';
import { DataError } from '../../data/errors.ts';
import { decodeDrawingPng, type InkImage } from '../../data/omniglot.ts';
import { INK_LUT, Resizer } from '../../data/resize.ts';
import type { PredictFile } from '../../experiments/types.ts';
import type { FewshotSchema } from './schema.ts';

/** Ink at or above this is ink in a binarized image (a training set's binary pixels are 0 or 255, untouched by it). */
const BINARY_THRESHOLD = 128;

/** Turns PNGs into side×side ink (0..255) as training's preprocessing did; resizers are made once per input size. */
export class ImagePreprocessor {
  private readonly resizers = new Map<string, Resizer>();

  constructor(readonly schema: FewshotSchema) {}

  /** One image; `flag` and the file's name go into any error. */
  image(flag: string, file: PredictFile): Uint8Array {
    if (!hasPngSignature(file.bytes)) {
      throw new DataError(`--${flag} ${file.name} is not a PNG image; give PNG images only (a drawing, dark ink on a light background).`);
    }
    const img = decodeInk(file.bytes, `--${flag} ${file.name}`);
    const { side, filter, binary } = this.schema;
    const key = `${img.width}x${img.height}`;
    let r = this.resizers.get(key);
    if (!r) this.resizers.set(key, (r = new Resizer(filter, img.width, img.height, side, side)));
    const out = new Uint8Array(side * side);
    r.run(img.ink, 0, INK_LUT, out, 0);
    if (binary) for (let i = 0; i < out.length; i++) out[i] = out[i] >= BINARY_THRESHOLD ? 255 : 0;
    return out;
  }
}

/**
 * A PNG as ink: greyscale exactly as training decodes its drawings (decodeDrawingPng); colour,
 * palette or with transparency (what drawing programs write) as its luminance over a white
 * background, so dark strokes on a transparent canvas are ink too.
 */
function decodeInk(bytes: Uint8Array, name: string): InkImage {
  let png: DecodedPng;
  try {
    png = decodePng(bytes, { checkCrc: true });
  } catch (err) {
    throw new DataError(`${name} is not a valid PNG (${(err as Error).message}).`);
  }
  if (!png.palette && png.channels === 1) return decodeDrawingPng(bytes, name);
  const { width, height } = png;
  const data = png.palette ? convertIndexedToRgb(png) : png.data;
  const channels = data.length / (width * height);
  const max = png.palette ? 255 : 2 ** png.depth - 1;
  const colour = channels >= 3;
  const alpha = channels === 2 || channels === 4;
  const ink = new Uint8Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const at = i * channels;
    const lum = (colour ? 0.299 * data[at] + 0.587 * data[at + 1] + 0.114 * data[at + 2] : data[at]) / max;
    const a = alpha ? data[at + channels - 1] / max : 1;
    const white = lum * a + (1 - a);
    ink[i] = Math.min(255, Math.max(0, Math.round(255 * (1 - white))));
  }
  return { width, height, ink };
}

export interface SupportSet {
  /** The class names (their folders), in class order: sorted. */
  classes: string[];
  /** images[c][k]: class c's k-th image (its files sorted by name). */
  images: Uint8Array[][];
}

/**
 * The support set from a folder's files, each named by its path inside the folder: the class is
 * the folder a file is in, classes and files in sorted order. Needs exactly `n` classes of `k`
 * images each (the checkpoint's N-way K-shot).
 */
export function readSupport(files: readonly PredictFile[], prep: ImagePreprocessor, n: number, k: number): SupportSet {
  if (files.length === 0) throw new DataError(`--support holds no images; give a folder with ${n} sub-folders (one per class) of ${k} PNG image${k === 1 ? '' : 's'} each.`);
  const byClass = new Map<string, PredictFile[]>();
  for (const f of files) {
    const cut = f.name.replace(/\\/g, '/').lastIndexOf('/');
    if (cut < 0) {
      throw new DataError(`--support ${f.name} is not in a class folder; give a folder with one sub-folder per class (the folder's name is the class), each holding ${k} PNG image${k === 1 ? '' : 's'}.`);
    }
    const cls = f.name.slice(0, cut).replace(/\\/g, '/');
    let list = byClass.get(cls);
    if (!list) byClass.set(cls, (list = []));
    list.push(f);
  }
  const classes = [...byClass.keys()].sort();
  if (classes.length !== n) {
    throw new DataError(`--support has ${classes.length} class folder${classes.length === 1 ? '' : 's'} (${classes.join(', ')}); the model was trained ${n}-way: give ${n} sub-folders, one per class.`);
  }
  const uneven = classes.filter((c) => (byClass.get(c) as PredictFile[]).length !== k);
  if (uneven.length) {
    const c = uneven[0];
    const m = (byClass.get(c) as PredictFile[]).length;
    throw new DataError(`--support class folder ${c} has ${m} image${m === 1 ? '' : 's'}; the model was trained ${k}-shot: give ${k} PNG image${k === 1 ? '' : 's'} in every class folder.`);
  }
  const images = classes.map((c) =>
    (byClass.get(c) as PredictFile[])
      .slice()
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((f) => prep.image('support', f)),
  );
  return { classes, images };
}

/** The query images, in the order given (a folder's in sorted order). */
export function readQueries(files: readonly PredictFile[], prep: ImagePreprocessor): Uint8Array[] {
  if (files.length === 0) throw new DataError('--query holds no images; give PNG files or a folder of them.');
  return files.map((f) => prep.image('query', f));
}
