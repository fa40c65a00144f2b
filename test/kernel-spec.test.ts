// The generic kernel contract: bindings read from the WGSL, sizes checked against the spec and
// the adapter's limits, aliasing refused, in Node and Chromium.
import { describe, expect, it } from 'vitest';
import { fill } from '../src/kernels/fill.ts';
import { Kernel, wgslBindings, type EntrySpec } from '../src/kernels/spec.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

const wgsl = `
struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
// @group(0) @binding(7) var<storage, read_write> commented: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage> b: array<f32>;
@group(0)  @binding(3)  var<storage, read_write> out: array<f32>;

@compute @workgroup_size(1)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < p.n) { out[id.x] = a[id.x] + b[id.x]; }
}
`;

const spec = (n: number): EntrySpec<'a' | 'b' | 'out'> => ({
  kernel: 'spec_add',
  source: wgsl,
  entry: 'main',
  params: { p: [n, 0, 0, 0] },
  sizes: { a: n * 4, b: n * 4, out: n * 4 },
  shape: `[${n}]`,
  grid: [n, 1],
});

describe('kernel spec', () => {
  it('reads binding numbers and access modes from the WGSL, skipping comments', () => {
    expect([...wgslBindings(wgsl)]).toEqual([
      ['p', { binding: 0, space: 'uniform', writes: false }],
      ['a', { binding: 1, space: 'storage', writes: false }],
      ['b', { binding: 2, space: 'storage', writes: false }],
      ['out', { binding: 3, space: 'storage', writes: true }],
    ]);
  });

  it('binds by name and runs', async () => {
    const [out] = await t.run(async (scope) => {
      const k = await Kernel.create(t.gpu, spec(3), scope);
      const a = scope.upload('a', Float32Array.of(1, 2, 3));
      const b = scope.upload('b', Float32Array.of(10, 20, 30));
      const o = scope.create('out', 12);
      return { dispatches: [k.bind({ a, b, out: o })], outputs: [[o, 3]] };
    });
    expect([...out]).toEqual([11, 22, 33]);
  });

  it('refuses short, missing, unknown, mis-typed and aliased bindings, naming the kernel', async () => {
    const { gpu } = t;
    const scope = gpu.buffers.scope();
    try {
      const k = await Kernel.create(gpu, spec(8), scope);
      const [a, b, out] = ['a', 'b', 'out'].map((name) => scope.create(name, 32));
      expect(() => k.bind({ a, b: scope.create('short', 28), out })).toThrow(/spec_add: b has 28 bytes but shape \[8\] needs 32/);
      expect(() => k.bind({ a, b, out: { buffer: scope.create('big', 64), offset: 40 } })).toThrow(/spec_add: out has 24 bytes but shape \[8\] needs 32/);
      expect(() => k.bind({ a, b } as never)).toThrow(/spec_add: out is not bound; main needs it/);
      expect(() => k.bind({ a, b, out, c: a } as never)).toThrow(/spec_add: c is not a binding of main; bind only a, b, out/);
      expect(() => k.bind({ a, b, out: scope.uniform('u', [0, 0, 0, 0, 0, 0, 0, 0]) })).toThrow(/spec_add: out must be a STORAGE buffer/);
      expect(() => k.bind({ a, b: a, out })).not.toThrow();
      expect(() => k.bind({ a: out, b, out })).toThrow(/spec_add: out and a are the same buffer; bind a distinct one/);
      // Disjoint ranges of one buffer do not alias.
      const whole = scope.create('whole', 512);
      expect(() => k.bind({ a: { buffer: whole, offset: 0, size: 32 }, b, out: { buffer: whole, offset: 256, size: 32 } })).not.toThrow();
      expect(() => k.bind({ a: { buffer: whole, offset: 0, size: 512 }, b, out: { buffer: whole, offset: 256, size: 32 } })).toThrow(/out and a are the same buffer/);
    } finally {
      scope.destroy();
    }
  });

  it('checks every binding against the adapter limits and the WGSL before compiling', async () => {
    const { gpu } = t;
    const n = Math.floor(gpu.device.limits.maxStorageBufferBindingSize / 4) + 1;
    await expect(Kernel.create(gpu, spec(n))).rejects.toThrow(/spec_add: a needs \d+ bytes for shape \[\d+\], more than this adapter's maxStorageBufferBindingSize/);
    await expect(Kernel.create(gpu, { ...spec(4), sizes: { a: 16, missing: 4 } } as never)).rejects.toThrow(/spec_add: the WGSL declares no binding named missing/);
    const wide = gpu.device.limits.maxComputeWorkgroupsPerDimension + 1;
    await expect(Kernel.create(gpu, { ...spec(4), grid: [wide, 1] })).rejects.toThrow(/spec_add: shape \[4\] needs a grid of \d+x1 workgroups, more than this adapter's maxComputeWorkgroupsPerDimension/);
    expect(() => fill(gpu, 0)).toThrow(/fill: n must be an integer >= 1, got 0/);
  });
});
