// Resizing Omniglot drawings (105×105) to the course's 28×28, on ink intensities.
//
// Sources are bytes mapped through a 256-entry table to ink (0 = background, 255 = ink), so the
// same code reads 0/1 booleans (npz, 1 = white) and 8-bit grey (255 = white) without a copy.
//
// Filters:
//  - nearest: PIL's nearest neighbour, exactly. The course made its 28×28 set with
//    `Image.resize((28, 28), LANCZOS)` on 1-bit PNGs, and Pillow's Image.resize silently
//    switches to NEAREST for modes "1" and "P". Pillow then runs an affine scale
//    (libImaging/Geometry.c ImagingScaleAffine): a = in/out, xo = a·0.5, and output x takes
//    source column (int)xo before xo += a; rows likewise. For 105→28, a = 3.75 is exact in
//    binary, so this is floor((x + 0.5)·3.75): columns 1, 5, 9, 13, 16, 20, ... 103.
//  - area: the mean over each output pixel's exact footprint, [x·a, (x+1)·a) in source units,
//    partial source pixels weighted by their overlap.
//  - lanczos: Lanczos-3 with Pillow's downsampling convention (libImaging/Resample.c): the
//    kernel is stretched by max(a, 1), so its support is 3·a source pixels; weights
//    L((i + 0.5 − c)/max(a, 1)) around c = (x + 0.5)·a, normalized to sum 1. Computed in
//    float64 and rounded once (Pillow rounds to 8 bits between its two passes).
// area and lanczos are separable: a horizontal pass over every source row, then a vertical one.
import type { ResizeFilter } from './omniglot-set.ts';

/** Ink lookup for 0/1 sources where 1 is white (the npz booleans, unpacked 1-bit PNGs). */
export const BOOL_WHITE_LUT: Uint8Array = (() => {
  const t = new Uint8Array(256);
  t[0] = 255;
  return t;
})();

/** Ink lookup for 8-bit grey where 255 is white. */
export const GREY_LUT: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let v = 0; v < 256; v++) t[v] = 255 - v;
  return t;
})();

/** Ink lookup for sources that already hold ink 0..255. */
export const INK_LUT: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let v = 0; v < 256; v++) t[v] = v;
  return t;
})();

/** Pillow's nearest-neighbour source index for each output position along one axis. */
export function nearestIndices(inSize: number, outSize: number): Int32Array {
  const a = inSize / outSize;
  const idx = new Int32Array(outSize);
  let xo = a * 0.5;
  for (let x = 0; x < outSize; x++) {
    const i = xo < 0 ? -1 : Math.trunc(xo);
    if (i < 0 || i >= inSize) throw new Error(`nearestIndices(${inSize}, ${outSize}): index ${i} out of range`);
    idx[x] = i;
    xo += a;
  }
  return idx;
}

/** Weights of one axis: output o reads source first[o] .. first[o] + count[o] - 1. */
export interface AxisWeights {
  first: Int32Array;
  count: Int32Array;
  /** weights[o * stride + k] for source first[o] + k. */
  weights: Float64Array;
  stride: number;
}

function axisWeights(outSize: number, stride: number, fill: (o: number, w: Float64Array, base: number) => [number, number]): AxisWeights {
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * stride);
  for (let o = 0; o < outSize; o++) [first[o], count[o]] = fill(o, weights, o * stride);
  return { first, count, weights, stride };
}

/** Exact-footprint box weights: overlap of [i, i+1) with [o·a, (o+1)·a), divided by a. */
export function areaWeights(inSize: number, outSize: number): AxisWeights {
  const a = inSize / outSize;
  const stride = Math.ceil(a) + 2;
  return axisWeights(outSize, stride, (o, w, base) => {
    const lo = (o * inSize) / outSize;
    const hi = ((o + 1) * inSize) / outSize;
    const i0 = Math.floor(lo);
    const i1 = Math.min(inSize, Math.ceil(hi));
    for (let i = i0; i < i1; i++) w[base + i - i0] = (Math.min(i + 1, hi) - Math.max(i, lo)) / a;
    return [i0, i1 - i0];
  });
}

/** Lanczos kernel with a = 3: sinc(x)·sinc(x/3) on [-3, 3), as Pillow defines it. */
export function lanczos3(x: number): number {
  if (!(x >= -3 && x < 3)) return 0;
  if (x === 0) return 1;
  const px = Math.PI * x;
  return ((Math.sin(px) / px) * Math.sin(px / 3)) / (px / 3);
}

/** Lanczos-3 weights, support stretched by the downscale factor (Pillow's precompute_coeffs). */
export function lanczosWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 3 * filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  return axisWeights(outSize, stride, (o, w, base) => {
    const center = (o + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5));
    let sum = 0;
    for (let i = xmin; i < xmax; i++) {
      const v = lanczos3((i - center + 0.5) / filterScale);
      w[base + i - xmin] = v;
      sum += v;
    }
    if (sum !== 0) for (let k = 0; k < xmax - xmin; k++) w[base + k] /= sum;
    return [xmin, xmax - xmin];
  });
}

/** Ink in [0, 1] (lanczos may ring slightly outside) to 0..255, rounding half up. */
export function quantizeInk(v: number): number {
  const q = Math.round(v * 255);
  return q < 0 ? 0 : q > 255 ? 255 : q;
}

/** A resize from inW×inH to outW×outH with one filter; tables are built once and reused. */
export class Resizer {
  readonly filter: ResizeFilter;
  readonly inW: number;
  readonly inH: number;
  readonly outW: number;
  readonly outH: number;
  private readonly xi?: Int32Array;
  private readonly yi?: Int32Array;
  private readonly wx?: AxisWeights;
  private readonly wy?: AxisWeights;
  private readonly tmp: Float64Array;
  private readonly floatOut: Float64Array;

  constructor(filter: ResizeFilter, inW: number, inH: number, outW: number, outH: number) {
    for (const n of [inW, inH, outW, outH]) if (!(Number.isInteger(n) && n >= 1)) throw new Error(`Resizer: sizes must be positive integers, got ${inW}×${inH} → ${outW}×${outH}`);
    this.filter = filter;
    this.inW = inW;
    this.inH = inH;
    this.outW = outW;
    this.outH = outH;
    if (filter === 'nearest') {
      this.xi = nearestIndices(inW, outW);
      this.yi = nearestIndices(inH, outH);
    } else if (filter === 'area') {
      this.wx = areaWeights(inW, outW);
      this.wy = areaWeights(inH, outH);
    } else if (filter === 'lanczos') {
      this.wx = lanczosWeights(inW, outW);
      this.wy = lanczosWeights(inH, outH);
    } else {
      throw new Error(`Resizer: unknown filter "${String(filter)}"`);
    }
    this.tmp = new Float64Array(inH * outW);
    this.floatOut = new Float64Array(outW * outH);
  }

  /** Resize src[srcOffset ..] (row-major inW×inH, mapped through lut to ink) into out[outOffset ..] as 0..255. */
  run(src: Uint8Array, srcOffset: number, lut: Uint8Array, out: Uint8Array, outOffset: number): void {
    const { outW, outH } = this;
    if (this.xi && this.yi) {
      const { xi, yi, inW } = this;
      for (let y = 0; y < outH; y++) {
        const row = srcOffset + yi[y] * inW;
        const o = outOffset + y * outW;
        for (let x = 0; x < outW; x++) out[o + x] = lut[src[row + xi[x]]];
      }
      return;
    }
    const f = this.runFloat(src, srcOffset, lut);
    for (let i = 0; i < outW * outH; i++) out[outOffset + i] = quantizeInk(f[i]);
  }

  /**
   * The filtered ink in [0, 1] before rounding (nearest gives lut/255). The returned array is
   * reused by the next call.
   */
  runFloat(src: Uint8Array, srcOffset: number, lut: Uint8Array): Float64Array {
    const { inW, inH, outW, outH, tmp, floatOut } = this;
    if (this.xi && this.yi) {
      const { xi, yi } = this;
      for (let y = 0; y < outH; y++) for (let x = 0; x < outW; x++) floatOut[y * outW + x] = lut[src[srcOffset + yi[y] * inW + xi[x]]] / 255;
      return floatOut;
    }
    const wx = this.wx as AxisWeights;
    const wy = this.wy as AxisWeights;
    // Horizontal: every source row to outW columns.
    for (let y = 0; y < inH; y++) {
      const row = srcOffset + y * inW;
      for (let x = 0; x < outW; x++) {
        const f = wx.first[x];
        const n = wx.count[x];
        const base = x * wx.stride;
        let s = 0;
        for (let k = 0; k < n; k++) s += wx.weights[base + k] * lut[src[row + f + k]];
        tmp[y * outW + x] = s;
      }
    }
    // Vertical: outH rows from the horizontal result.
    for (let y = 0; y < outH; y++) {
      const f = wy.first[y];
      const n = wy.count[y];
      const base = y * wy.stride;
      for (let x = 0; x < outW; x++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += wy.weights[base + k] * tmp[(f + k) * outW + x];
        floatOut[y * outW + x] = s / 255;
      }
    }
    return floatOut;
  }
}

/** One-off resize of an ink image (0..255 unless a lut says otherwise) to outW×outH bytes. */
export function resizeInk(src: Uint8Array, inW: number, inH: number, outW: number, outH: number, filter: ResizeFilter, lut: Uint8Array = INK_LUT): Uint8Array {
  const out = new Uint8Array(outW * outH);
  new Resizer(filter, inW, inH, outW, outH).run(src, 0, lut, out, 0);
  return out;
}

/** One-off resize returning the unrounded ink in [0, 1]. */
export function resizeInkFloat(src: Uint8Array, inW: number, inH: number, outW: number, outH: number, filter: ResizeFilter, lut: Uint8Array = INK_LUT): Float64Array {
  return new Resizer(filter, inW, inH, outW, outH).runFloat(src, 0, lut).slice();
}
