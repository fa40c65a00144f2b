// The layering DESIGN.md promises, checked on the sources: the data layer (bytes in, typed
// arrays out) imports nothing from src/gpu/, so loading data never loads Dawn; and no module
// reaches itself through its imports, type-only ones included, so each can be read on its own.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Every module specifier a TypeScript file imports or re-exports, type-only ones included. */
function imports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/^\s*(?:import|export)\b[^'";]*?from\s+['"]([^'"]+)['"]/gm), ...src.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]);
}

/** The project's .ts files under `roots`, each with the project files it imports. */
function importGraph(roots: readonly string[]): Map<string, string[]> {
  const files = roots.flatMap((r) => readdirSync(r, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(r, f)));
  const edges = new Map<string, string[]>();
  for (const f of files) {
    const local = imports(f).filter((s) => s.startsWith('.')).map((s) => relative('.', resolve(dirname(f), s)));
    edges.set(f, local.filter((t) => existsSync(t)));
  }
  return edges;
}

/** Every import circle, each as the path that closes it ("a.ts -> b.ts -> a.ts"). */
function circles(edges: Map<string, string[]>): string[] {
  const found: string[] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (f: string): void => {
    const at = path.indexOf(f);
    if (at >= 0) {
      found.push([...path.slice(at), f].join(' -> '));
      return;
    }
    if (done.has(f)) return;
    path.push(f);
    for (const t of edges.get(f) ?? []) visit(t);
    path.pop();
    done.add(f);
  };
  for (const f of edges.keys()) visit(f);
  return found;
}

describe('layers', () => {
  it('no import circles in src/, cli/, web/ or bench/', () => {
    const edges = importGraph(['src', 'cli', 'web', 'bench']);
    expect(edges.size).toBeGreaterThan(100);
    expect(circles(edges)).toEqual([]);
  });

  it('the circle check finds a circle', () => {
    const edges = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]);
    expect(circles(edges)).toEqual(['a.ts -> b.ts -> c.ts -> a.ts']);
  });

  it('src/data/ imports nothing from src/gpu/', () => {
    const files = readdirSync('src/data', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    const bad = files.flatMap((f) => imports(join('src/data', f)).filter((s) => /(^|\/)gpu\//.test(s) || s === '#gpu-platform').map((s) => `${f}: ${s}`));
    expect(bad).toEqual([]);
  });
});
