// The layering DESIGN.md promises, checked on the sources: the data layer (bytes in, typed
// arrays out) imports nothing from src/gpu/, so loading data never loads Dawn.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Every module specifier a TypeScript file imports or re-exports, type-only ones included. */
function imports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/^\s*(?:import|export)\b[^'";]*?from\s+['"]([^'"]+)['"]/gm), ...src.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]);
}

describe('layers', () => {
  it('src/data/ imports nothing from src/gpu/', () => {
    const files = readdirSync('src/data', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    const bad = files.flatMap((f) => imports(join('src/data', f)).filter((s) => /(^|\/)gpu\//.test(s) || s === '#gpu-platform').map((s) => `${f}: ${s}`));
    expect(bad).toEqual([]);
  });
});
