/**
 * The layout rules of docs/ARCHITECTURE.md, checked mechanically: the base
 * layers import no slice, slices reach each other only through services and
 * types (never another slice's queries), and relative imports carry `.js`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '../src');
const BASE = new Set(['core', 'store', 'artifacts', 'engine']);
/** Modules of a slice that hold its queries: only the slice itself may import them. */
const PRIVATE = /\/(store|queries)\.ts$/;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm), ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]);
}

const area = (file: string) => path.relative(SRC, file).split(path.sep)[0];

describe('module boundaries', () => {
  const files = sourceFiles(SRC);

  it('finds the source tree', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it('base layers (core, store, artifacts, engine) import no slice', () => {
    const offenders: string[] = [];
    for (const file of files.filter((f) => BASE.has(area(f)))) {
      for (const spec of imports(file).filter((s) => s.startsWith('.'))) {
        const target = area(path.resolve(path.dirname(file), spec));
        if (!BASE.has(target)) offenders.push(`${path.relative(SRC, file)} → ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("no slice imports another slice's query module", () => {
    const offenders: string[] = [];
    for (const file of files) {
      for (const spec of imports(file).filter((s) => s.startsWith('.'))) {
        const resolved = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
        if (PRIVATE.test(resolved) && area(resolved) !== area(file) && area(resolved) !== 'store') offenders.push(`${path.relative(SRC, file)} → ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('relative imports end in .js (ESM resolution at run time)', () => {
    const offenders = files.flatMap((file) =>
      imports(file)
        .filter((s) => s.startsWith('.') && !s.endsWith('.js') && !s.endsWith('.json'))
        .map((s) => `${path.relative(SRC, file)} → ${s}`),
    );
    expect(offenders).toEqual([]);
  });
});
