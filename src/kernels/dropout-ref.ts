// The CPU reference for shaders/dropout.wgsl: the same pcg4d hash in wrapping u32 arithmetic,
// so the mask is the GPU's bit for bit.

/** pcg4d (Jarzynski and Olano 2020) of the counters (a, b, c, d), as the WGSL computes it. */
export function pcg4dRef(a: number, b: number, c: number, d: number): [number, number, number, number] {
  const lcg = (u: number): number => (Math.imul(u, 1664525) + 1013904223) >>> 0;
  let [x, y, z, w] = [lcg(a), lcg(b), lcg(c), lcg(d)];
  const mix = (): void => {
    x = (x + Math.imul(y, w)) >>> 0;
    y = (y + Math.imul(z, x)) >>> 0;
    z = (z + Math.imul(x, y)) >>> 0;
    w = (w + Math.imul(y, z)) >>> 0;
  };
  mix();
  [x, y, z, w] = [x ^ (x >>> 16), y ^ (y >>> 16), z ^ (z >>> 16), w ^ (w >>> 16)];
  mix();
  return [x, y, z, w];
}

/** The u32 draw below which an element is dropped: rate · 2^32, rounded, at most 2^32 - 1. */
export function dropThreshold(rate: number): number {
  return Math.min(2 ** 32 - 1, Math.round(rate * 2 ** 32));
}

/** Inverted dropout of x at `rate` for counters (seed, step, stream): kept elements times 1 / (1 - rate) in f32. */
export function dropoutRef(x: ArrayLike<number>, rate: number, seed: number, step: number, stream: number): Float32Array {
  const threshold = dropThreshold(rate);
  const scale = Math.fround(1 / (1 - rate));
  return Float32Array.from({ length: x.length }, (_, i) => (pcg4dRef(i, step, seed, stream)[0] >= threshold ? Math.fround(x[i] * scale) : 0));
}
