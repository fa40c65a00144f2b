// N steps straight equal N/2 steps, a checkpoint on disk, and N/2 more in a new process.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let dir = '';
const bundle = join('dist', 'test-fixtures', 'resume-run.mjs');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shadertrain-resume-'));
  await build({
    entryPoints: ['test/fixtures/resume-run.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    // Inside the project, so that the bundle finds node_modules/webgpu.
    outfile: bundle,
    loader: { '.wgsl': 'text' },
    external: ['webgpu'],
    logLevel: 'warning',
  });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(...args: string[]): void {
  execFileSync(process.execPath, [bundle, ...args], { stdio: 'pipe', timeout: 60_000 });
}

describe('resume in a new process', () => {
  it('ends with a checkpoint byte-identical to an uninterrupted run', () => {
    run('6', join(dir, 'straight.safetensors'));
    run('3', join(dir, 'half.safetensors'));
    run('3', join(dir, 'resumed.safetensors'), join(dir, 'half.safetensors'));
    const a = readFileSync(join(dir, 'straight.safetensors'));
    const b = readFileSync(join(dir, 'resumed.safetensors'));
    expect(b.length).toBe(a.length);
    expect(b.equals(a)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]); // atomic writes left nothing behind
  });
});
