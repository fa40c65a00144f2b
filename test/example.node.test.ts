// examples/ as a user runs it in Node: `import … from 'shadertrain'` resolves through the
// package's own exports map to dist/node.js, and the custom MLP learns the CSV it ships with.
// (test/e2e/example.e2e.ts runs the same model in a page; test/pack.node.test.ts from the tarball.)
import { execFileSync, spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs', 'lib']);
});

describe('examples/ in Node', () => {
  it('trains the MLP on moons.csv through the package exports: the weighted loss falls, test accuracy >= 0.9', () => {
    const r = spawnSync(process.execPath, ['examples/node.mjs'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const losses = [...r.stdout.matchAll(/^step \d+: weighted loss (\S+)$/gm)].map((m) => Number(m[1]));
    expect(losses).toHaveLength(3);
    expect(losses[2]).toBeLessThan(losses[0]);
    const accuracy = Number(/^test accuracy (\S+) on 80 rows/m.exec(r.stdout)?.[1]);
    expect(accuracy).toBeGreaterThanOrEqual(0.9);
  });
});
