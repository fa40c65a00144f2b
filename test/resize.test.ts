// The three resize filters against values derived by hand, and against a plain 2-D float64
// implementation written here (explicit loops over every source pixel, no weight tables).
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/random.ts';
import { BOOL_WHITE_LUT, GREY_LUT, INK_LUT, lanczos3, lanczosWeights, nearestIndices, resizeInk, resizeInkFloat, Resizer } from '../src/data/resize.ts';
import type { ResizeFilter } from '../src/data/omniglot-set.ts';

function image(w: number, h: number, ink: [number, number][]): Uint8Array {
  const img = new Uint8Array(w * h);
  for (const [x, y] of ink) img[y * w + x] = 255;
  return img;
}

// ---- the independent reference: one output pixel at a time, all source pixels visited ----

function sinc(x: number): number {
  return x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
}

/** Weight of source pixel i (covering [i, i+1)) for output pixel o along one axis. */
function weight1d(filter: ResizeFilter, i: number, o: number, inSize: number, outSize: number): number {
  const s = inSize / outSize;
  if (filter === 'area') {
    const lo = o * s;
    const hi = (o + 1) * s;
    return Math.max(0, Math.min(i + 1, hi) - Math.max(i, lo));
  }
  // lanczos: distance between centres in output-pixel units (when shrinking), a = 3.
  const d = (i + 0.5 - (o + 0.5) * s) / Math.max(s, 1);
  return Math.abs(d) < 3 ? sinc(d) * sinc(d / 3) : 0;
}

function reference(src: Uint8Array, w: number, h: number, ow: number, oh: number, filter: ResizeFilter): Float64Array {
  const out = new Float64Array(ow * oh);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      if (filter === 'nearest') {
        const sx = Math.floor(((ox + 0.5) * w) / ow);
        const sy = Math.floor(((oy + 0.5) * h) / oh);
        out[oy * ow + ox] = src[sy * w + sx] / 255;
        continue;
      }
      let num = 0;
      let den = 0;
      for (let y = 0; y < h; y++) {
        const wy = weight1d(filter, y, oy, h, oh);
        if (wy === 0) continue;
        for (let x = 0; x < w; x++) {
          const k = wy * weight1d(filter, x, ox, w, ow);
          num += k * src[y * w + x];
          den += k;
        }
      }
      out[oy * ow + ox] = num / den / 255;
    }
  }
  return out;
}

/** A pen-stroke-like drawing: a few thick random walks on a white 105×105 page. */
function strokes(rng: Rng, w = 105, h = 105): Uint8Array {
  const img = new Uint8Array(w * h);
  for (let s = 0; s < 3; s++) {
    let x = 20 + rng.int(65);
    let y = 20 + rng.int(65);
    for (let step = 0; step < 60; step++) {
      x = Math.min(w - 3, Math.max(2, x + rng.int(5) - 2));
      y = Math.min(h - 3, Math.max(2, y + rng.int(5) - 2));
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) img[(y + dy) * w + x + dx] = 255;
    }
  }
  return img;
}

describe('nearest (PIL for mode "1" images)', () => {
  it("samples Pillow's columns floor((x + 0.5) * 105/28) for 105 → 28", () => {
    // 3.75 per output pixel, starting at 1.875: 1.875, 5.625, 9.375, 13.125, 16.875, ...
    expect(Array.from(nearestIndices(105, 28))).toEqual([
      1, 5, 9, 13, 16, 20, 24, 28, 31, 35, 39, 43, 46, 50, 54, 58, 61, 65, 69, 73, 76, 80, 84, 88, 91, 95, 99, 103,
    ]);
  });

  it('keeps a single ink pixel only when it lies on a sampled row and column', () => {
    const hit = resizeInk(image(105, 105, [[16, 1]]), 105, 105, 28, 28, 'nearest');
    expect(hit[0 * 28 + 4]).toBe(255);
    expect(hit.reduce((a, b) => a + b, 0)).toBe(255);
    const miss = resizeInk(image(105, 105, [[15, 1], [16, 2], [104, 104], [0, 0]]), 105, 105, 28, 28, 'nearest');
    expect(miss.every((v) => v === 0)).toBe(true);
    const corner = resizeInk(image(105, 105, [[103, 103]]), 105, 105, 28, 28, 'nearest');
    expect(corner[27 * 28 + 27]).toBe(255);
  });

  it('picks source (1,1), (3,1), (1,3), (3,3) for 4×4 → 2×2 and maps bytes through the lookup table', () => {
    const src = Uint8Array.from({ length: 16 }, (_, i) => i * 10);
    expect(Array.from(resizeInk(src, 4, 4, 2, 2, 'nearest'))).toEqual([50, 70, 130, 150]);
    expect(Array.from(resizeInk(src, 4, 4, 2, 2, 'nearest', GREY_LUT))).toEqual([205, 185, 125, 105]);
    const bools = Uint8Array.from([0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    expect(Array.from(resizeInk(bools, 4, 4, 2, 2, 'nearest', BOOL_WHITE_LUT))).toEqual([255, 0, 0, 255]);
  });
});

describe('area (exact footprint)', () => {
  it('averages 2×2 blocks for 4×4 → 2×2', () => {
    const src = image(4, 4, [[0, 0], [1, 0], [0, 1], [1, 1], [3, 3]]);
    expect(Array.from(resizeInk(src, 4, 4, 2, 2, 'area'))).toEqual([255, 0, 0, 64]); // 255/4 = 63.75
  });

  it('splits a centre pixel over four outputs for 3×3 → 2×2', () => {
    // Output (0,0) covers [0, 1.5)²: a quarter of pixel (1,1), over an area of 2.25: 1/9.
    const f = resizeInkFloat(image(3, 3, [[1, 1]]), 3, 3, 2, 2, 'area');
    for (const v of f) expect(v).toBeCloseTo(1 / 9, 15);
    expect(Array.from(resizeInk(image(3, 3, [[1, 1]]), 3, 3, 2, 2, 'area'))).toEqual([28, 28, 28, 28]); // 28.33
  });

  it('weights partial pixels by overlap for 105 → 28 (3.75 source pixels per output)', () => {
    // Pixel (3,3) is 3/4 inside output 0 ([0, 3.75)) and 1/4 inside output 1 ([3.75, 7.5)).
    const f = resizeInkFloat(image(105, 105, [[3, 3]]), 105, 105, 28, 28, 'area');
    expect(f[0]).toBeCloseTo(0.2 * 0.2, 15);
    expect(f[1]).toBeCloseTo(0.2 * (0.25 / 3.75), 15);
    expect(f[28]).toBeCloseTo(0.2 * (0.25 / 3.75), 15);
    expect(f[29]).toBeCloseTo((0.25 / 3.75) ** 2, 15);
    const q = resizeInk(image(105, 105, [[3, 3]]), 105, 105, 28, 28, 'area');
    expect([q[0], q[1], q[28], q[29]]).toEqual([10, 3, 3, 1]); // 10.2, 3.4, 3.4, 1.13
    expect(q.reduce((a, b) => a + b, 0)).toBe(17);
    expect(resizeInk(image(105, 105, [[0, 0]]), 105, 105, 28, 28, 'area')[0]).toBe(18); // 255/14.0625
    expect(resizeInk(new Uint8Array(105 * 105).fill(255), 105, 105, 28, 28, 'area').every((v) => v === 255)).toBe(true);
  });
});

describe('lanczos (Lanczos-3, support stretched when shrinking)', () => {
  it('has the kernel values sinc(x)·sinc(x/3)', () => {
    expect(lanczos3(0)).toBe(1);
    expect(lanczos3(0.5)).toBeCloseTo(6 / Math.PI ** 2, 15); // (2/π)·(3/π)
    expect(Math.abs(lanczos3(1))).toBeLessThan(1e-15);
    expect(lanczos3(3)).toBe(0);
    expect(lanczos3(-3.5)).toBe(0);
  });

  it('reads 3.75 × 3 = 11.25 source pixels either side of each centre for 105 → 28', () => {
    const w = lanczosWeights(105, 28);
    // Output 0: centre 1.875, pixels 0 .. trunc(13.625) - 1; output 14: centre 54.375, 43 .. 65;
    // output 27: centre 103.125, 92 .. 104 (cut by the edge).
    expect([w.first[0], w.count[0]]).toEqual([0, 13]);
    expect([w.first[14], w.count[14]]).toEqual([43, 23]);
    expect([w.first[27], w.count[27]]).toEqual([92, 13]);
    for (let o = 0; o < 28; o++) {
      let s = 0;
      for (let k = 0; k < w.count[o]; k++) s += w.weights[o * w.stride + k];
      expect(s).toBeCloseTo(1, 14);
    }
  });

  it('is the identity at the same size, and averages two pixels into one', () => {
    const rng = new Rng(5);
    const src = Uint8Array.from({ length: 64 }, () => rng.int(256));
    expect(Array.from(resizeInk(src, 8, 8, 8, 8, 'lanczos'))).toEqual(Array.from(src));
    // 2 → 1: the two pixel centres sit ±0.25 output pixels from the centre: equal weights.
    expect(resizeInkFloat(Uint8Array.from([0, 255]), 2, 1, 1, 1, 'lanczos')[0]).toBe(0.5);
    expect(resizeInk(Uint8Array.from([0, 255]), 2, 1, 1, 1, 'lanczos')[0]).toBe(128); // 127.5 rounds up
  });

  it('weights an edge pixel by L(-0.25) / (L(-0.25) + L(0.25) + L(0.75) + L(1.25)) for 4 → 2', () => {
    const L = (x: number): number => ((Math.sin(Math.PI * x) / (Math.PI * x)) * Math.sin((Math.PI * x) / 3)) / ((Math.PI * x) / 3);
    const expected = L(-0.25) / (2 * L(0.25) + L(0.75) + L(1.25));
    const f = resizeInkFloat(Uint8Array.from([255, 0, 0, 0]), 4, 1, 2, 1, 'lanczos');
    expect(f[0]).toBeCloseTo(expected, 14);
    // Output 1 (centre 3): the pixel is 2.5 source pixels away: t = -1.25, negative lobe.
    expect(f[1]).toBeCloseTo(L(-1.25) / (L(-1.25) + L(-0.75) + 2 * L(-0.25)), 14);
    expect(f[1]).toBeLessThan(0);
    expect(resizeInk(Uint8Array.from([255, 0, 0, 0]), 4, 1, 2, 1, 'lanczos')[1]).toBe(0); // clamped
  });
});

describe('all filters against the 2-D reference', () => {
  const cases: [string, Uint8Array, number, number, number, number][] = [];
  const rng = new Rng(330);
  for (let i = 0; i < 3; i++) cases.push([`strokes ${i} 105→28`, strokes(rng), 105, 105, 28, 28]);
  cases.push(['noise 37×23 → 11×7', Uint8Array.from({ length: 37 * 23 }, () => rng.int(256)), 37, 23, 11, 7]);
  cases.push(['noise 5×6 → 9×4 (stretch and shrink)', Uint8Array.from({ length: 30 }, () => rng.int(256)), 5, 6, 9, 4]);

  for (const filter of ['nearest', 'area', 'lanczos'] as const) {
    it(`${filter}`, () => {
      for (const [name, src, w, h, ow, oh] of cases) {
        // Pillow accumulates positions; our reference multiplies. They agree wherever the
        // scale is exact in binary (105/28 = 3.75); skip nearest on the others.
        if (filter === 'nearest' && w / ow !== 3.75) continue;
        const r = new Resizer(filter, w, h, ow, oh);
        const got = r.runFloat(src, 0, INK_LUT);
        const want = reference(src, w, h, ow, oh, filter);
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
        expect(worst, `${name}: worst |difference| ${worst}`).toBeLessThan(1e-12);
        const bytes = new Uint8Array(ow * oh);
        r.run(src, 0, INK_LUT, bytes, 0);
        for (let i = 0; i < want.length; i++) {
          // Rounding may only differ where the value sits on a .5 boundary within float error.
          const v = want[i] * 255;
          const exact = Math.min(255, Math.max(0, Math.round(v)));
          if (bytes[i] !== exact) expect(Math.abs(v - Math.floor(v) - 0.5), `${name} pixel ${i}: ${bytes[i]} vs ${v}`).toBeLessThan(1e-9);
        }
      }
    });
  }
});

// Real drawings need the shared data folder, so Node only (the browser project has no files).
describe.skipIf(typeof window !== 'undefined')('all filters on real Omniglot drawings against the 2-D reference', () => {
  it('six drawings from images_background_small1.zip', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { unzipSync } = await import('fflate');
    const { decodeDrawingPng } = await import('../src/data/omniglot.ts');
    const dir = process.env.OMNIGLOT_SHARED ?? join(process.cwd(), '..', 'shared', 'data', 'omniglot');
    const wanted = ['Balinese/character01/0108_01.png', 'Balinese/character05/0112_07.png', 'Korean/character10/0652_13.png'];
    const zip = unzipSync(new Uint8Array(readFileSync(join(dir, 'images_background_small1.zip'))), {
      filter: (f) => wanted.some((w) => f.name.endsWith(w)) || /character02\/\d{4}_20\.png$/.test(f.name),
    });
    const names = Object.keys(zip).sort();
    expect(names.length).toBe(8);
    for (const name of names.slice(0, 6)) {
      const img = decodeDrawingPng(zip[name], name);
      expect([img.width, img.height]).toEqual([105, 105]);
      for (const filter of ['nearest', 'area', 'lanczos'] as const) {
        const got = resizeInkFloat(img.ink, 105, 105, 28, 28, filter);
        const want = reference(img.ink, 105, 105, 28, 28, filter);
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
        expect(worst, `${name} ${filter}`).toBeLessThan(1e-12);
      }
    }
  });
});
