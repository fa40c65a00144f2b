// N-way K-shot episodes as the course defines them, and what the network reads from them.
//
// An episode: N characters drawn at random from a split's characters, K+1 distinct drawings of
// each. The first K rows (shots) are the support set in class order, labelled; the last row is
// the query set, one drawing per class, in shuffled order, unlabelled. The network reads the
// (K+1)·N positions shot by shot ("shot-major"), each position concat(image 784, one-hot label
// N) with the query's label part zero; it must name each query's class.
//
// A batch of B episodes is laid out time-major, as the LSTM ops read it: position t of episode b
// is row t·B + b. The host fills one u32 pair per row, (image, class), where image = character ·
// drawings + drawing indexes the OmniglotSet; the layer's input (active indices of a binary
// image, or dense floats) is derived from that when the batch is fed.
import type { OmniglotSet } from '../../data/omniglot-set.ts';
import type { Rng } from '../../random.ts';

export interface EpisodeShape {
  /** N: classes per episode. */
  numClasses: number;
  /** K: labelled drawings per class. */
  numShot: number;
  /** B: episodes per batch. */
  batch: number;
}

/** (K+1)·N positions per episode. */
export function sequenceLength(s: EpisodeShape): number {
  return (s.numShot + 1) * s.numClasses;
}

/** Rows of a batch: T·B. */
export function batchRows(s: EpisodeShape): number {
  return sequenceLength(s) * s.batch;
}

/** The first query row: positions t >= K·N are the queries. */
export function firstQueryRow(s: EpisodeShape): number {
  return s.numShot * s.numClasses * s.batch;
}

/** u32 words of a batch: an (image, class) pair per row. */
export function episodeWords(s: EpisodeShape): number {
  return 2 * batchRows(s);
}

/** The first `count` entries of a partial Fisher-Yates shuffle of [0, n): `count` distinct values, uniformly. */
function pickDistinct(rng: Rng, n: number, count: number, scratch: Uint32Array): Uint32Array {
  for (let i = 0; i < n; i++) scratch[i] = i;
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(n - i);
    const t = scratch[i];
    scratch[i] = scratch[j];
    scratch[j] = t;
  }
  return scratch.subarray(0, count);
}

/**
 * Draws B episodes from `characters` (indices into the set) into `out` (episodeWords words):
 * per row t·B + b, the image index and the class in [0, N). The caller checks that there are
 * at least N characters and K+1 drawings (see checkEpisodeShape).
 */
export function sampleEpisodes(rng: Rng, characters: readonly number[], drawings: number, s: EpisodeShape, out: Uint32Array = new Uint32Array(episodeWords(s))): Uint32Array {
  const { numClasses: N, numShot: K, batch: B } = s;
  const charScratch = new Uint32Array(characters.length);
  const drawScratch = new Uint32Array(drawings);
  const chosen = new Uint32Array(N * (K + 1)); // image of (class, shot)
  const order = new Uint32Array(N);
  for (let b = 0; b < B; b++) {
    const classes = pickDistinct(rng, characters.length, N, charScratch);
    for (let c = 0; c < N; c++) {
      const ch = characters[classes[c]];
      const ds = pickDistinct(rng, drawings, K + 1, drawScratch);
      for (let k = 0; k <= K; k++) chosen[c * (K + 1) + k] = ch * drawings + ds[k];
    }
    for (let k = 0; k < K; k++) {
      for (let c = 0; c < N; c++) {
        const r = (k * N + c) * B + b;
        out[2 * r] = chosen[c * (K + 1) + k];
        out[2 * r + 1] = c;
      }
    }
    for (let c = 0; c < N; c++) order[c] = c;
    rng.shuffle(order);
    for (let j = 0; j < N; j++) {
      const c = order[j];
      const r = (K * N + j) * B + b;
      out[2 * r] = chosen[c * (K + 1) + K];
      out[2 * r + 1] = c;
    }
  }
  return out;
}

/** The class of every row, for the loss (support rows' classes are there but weigh nothing). */
export function episodeClasses(episodes: ArrayLike<number>, s: EpisodeShape, out: Uint32Array = new Uint32Array(batchRows(s))): Uint32Array {
  for (let r = 0; r < out.length; r++) out[r] = episodes[2 * r + 1];
  return out;
}

/** 1 on the query rows, 0 on the support rows: the loss is the mean over the B·N queries. */
export function queryWeights(s: EpisodeShape): Float32Array {
  const w = new Float32Array(batchRows(s));
  w.fill(1, firstQueryRow(s));
  return w;
}

/**
 * The set's images as the network reads them: pixels as ink in [0, 1] (255 → 1), and for a
 * binary set each image's active pixels in ascending order, to feed an embedding bag.
 */
export class ImageBank {
  readonly pixels: number;
  readonly images: number;
  readonly binary: boolean;
  /** Binary sets: image i's active pixels are active[start[i] .. start[i+1]). */
  private readonly start: Uint32Array;
  private readonly active: Uint16Array;
  /** The most active pixels of any image (binary sets). */
  readonly maxActive: number;
  private readonly ink = Float32Array.from({ length: 256 }, (_, v) => v / 255);

  constructor(private readonly set: OmniglotSet) {
    this.pixels = set.side * set.side;
    this.images = set.characters * set.drawings;
    this.binary = set.binary;
    this.start = new Uint32Array(this.images + 1);
    let count = 0;
    let max = 0;
    if (set.binary) {
      const px = set.pixels;
      for (let i = 0; i < this.images; i++) {
        let n = 0;
        for (let p = i * this.pixels, e = p + this.pixels; p < e; p++) if (px[p] !== 0) n++;
        count += n;
        max = Math.max(max, n);
        this.start[i + 1] = count;
      }
    }
    this.active = new Uint16Array(count);
    if (set.binary) {
      const px = set.pixels;
      let k = 0;
      for (let i = 0; i < this.images; i++) for (let p = 0; p < this.pixels; p++) if (px[i * this.pixels + p] !== 0) this.active[k++] = p;
    }
    this.maxActive = max;
  }

  /** Mean share of active pixels (binary sets). */
  get inkFraction(): number {
    return this.active.length / (this.images * this.pixels);
  }

  /**
   * The CSR of a batch's inputs over the rows of W_ih [784 + N, 4H]: per row its image's active
   * pixels, then column 784 + class on support rows. Returns the used prefix of `out`.
   */
  packBags(episodes: ArrayLike<number>, s: EpisodeShape, out: Uint32Array): Uint32Array {
    if (!this.binary) throw new Error('packBags needs a binary set');
    const rows = batchRows(s);
    const query = firstQueryRow(s);
    const at = rows + 1;
    let k = 0;
    out[0] = 0;
    for (let r = 0; r < rows; r++) {
      const img = episodes[2 * r];
      const e = this.start[img + 1];
      for (let j = this.start[img]; j < e; j++) out[at + k++] = this.active[j];
      if (r < query) out[at + k++] = this.pixels + episodes[2 * r + 1];
      out[r + 1] = k;
    }
    return out.subarray(0, at + k);
  }

  /** The batch's inputs as dense rows [T·B, 784 + N]: ink in [0, 1], then the one-hot class on support rows. */
  dense(episodes: ArrayLike<number>, s: EpisodeShape, out: Float32Array): Float32Array {
    const rows = batchRows(s);
    const query = firstQueryRow(s);
    const width = this.pixels + s.numClasses;
    const px = this.set.pixels;
    out.fill(0);
    for (let r = 0; r < rows; r++) {
      const src = episodes[2 * r] * this.pixels;
      const dst = r * width;
      for (let p = 0; p < this.pixels; p++) out[dst + p] = this.ink[px[src + p]];
      if (r < query) out[dst + this.pixels + episodes[2 * r + 1]] = 1;
    }
    return out;
  }
}
