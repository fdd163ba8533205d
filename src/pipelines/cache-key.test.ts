import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { cacheKey } from './cache-key.js';
import { DEFAULT_RETRY } from './define.js';
import type { StepDefinition } from './types.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-cachekey-'));
  fs.writeFileSync(path.join(root, 'features.py'), 'print("v1")\n');
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const shellStep = (over: Partial<StepDefinition> = {}): StepDefinition => ({
  name: 'features',
  kind: 'shell',
  cmd: 'python features.py',
  inputs: { raw: { step: 'ingest', output: 'raw' }, customers: { dataset: 'customers@2' } },
  outputs: ['features'],
  params: { k: 3 },
  retry: { ...DEFAULT_RETRY },
  tags: [],
  cache: true,
  deps: ['features.py'],
  ...over,
});

const hashes = { raw: 'aaaa1111', customers: 'bbbb2222' };
const keyOf = (step: StepDefinition, params: Record<string, string | number | boolean> = { k: 3 }, inputVersionHashes: Record<string, string> = hashes) =>
  cacheKey(step, { params, inputVersionHashes, projectRoot: root });

describe('cacheKey', () => {
  it('is the sha256 of the documented canonical material', () => {
    // Written out by hand from the format in cache-key.ts: keys sorted, deps as [path, sha256], inputs sorted by name.
    const material =
      '{"code":{"cmd":"python features.py"},' +
      `"deps":[["features.py","${sha('print("v1")\n')}"]],` +
      '"inputs":[["customers","bbbb2222"],["raw","aaaa1111"]],' +
      '"kind":"shell","outputs":["features"],"params":{"k":3},"v":1}';
    expect(keyOf(shellStep())).toBe(sha(material));
  });

  it('is stable for the same inputs, whatever the key order of params and hashes', () => {
    const step = shellStep({ params: { k: 3, mode: 'fast' } });
    const a = keyOf(step, { k: 3, mode: 'fast' }, { raw: 'aaaa1111', customers: 'bbbb2222' });
    const b = keyOf(step, { mode: 'fast', k: 3 }, { customers: 'bbbb2222', raw: 'aaaa1111' });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(b).toBe(a);
  });

  it('changes with a param value, and tells 3 from "3"', () => {
    const base = keyOf(shellStep());
    expect(keyOf(shellStep(), { k: 4 })).not.toBe(base);
    expect(keyOf(shellStep(), { k: '3' })).not.toBe(base);
  });

  it('changes with the contents of a dep file', () => {
    const base = keyOf(shellStep());
    fs.writeFileSync(path.join(root, 'features.py'), 'print("v2")\n');
    expect(keyOf(shellStep())).not.toBe(base);
  });

  it('changes with a file under a dep directory', () => {
    fs.mkdirSync(path.join(root, 'lib/sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'lib/sub/util.py'), 'x = 1\n');
    const step = shellStep({ deps: ['lib'] });
    const base = keyOf(step);
    expect(keyOf(step)).toBe(base);
    fs.writeFileSync(path.join(root, 'lib/sub/util.py'), 'x = 2\n');
    expect(keyOf(step)).not.toBe(base);
  });

  it('changes with one input version hash', () => {
    expect(keyOf(shellStep(), { k: 3 }, { ...hashes, raw: 'aaaa9999' })).not.toBe(keyOf(shellStep()));
  });

  it('changes with the code: command, SQL, function source, built-in arguments', () => {
    expect(keyOf(shellStep({ cmd: 'python features.py --fast' }))).not.toBe(keyOf(shellStep()));

    const sql = (text: string): StepDefinition => shellStep({ kind: 'sql', cmd: undefined, sql: text, deps: [] });
    expect(keyOf(sql('select 2'))).not.toBe(keyOf(sql('select 1')));

    const fnStep = (fn: () => number): StepDefinition => shellStep({ kind: 'function', cmd: undefined, fn: fn as never, deps: [] });
    expect(keyOf(fnStep(() => 1))).not.toBe(keyOf(fnStep(() => 2)));
    expect(keyOf(fnStep(() => 1))).toBe(keyOf(fnStep(() => 1)));

    const builtin = (w: Record<string, unknown>): StepDefinition => shellStep({ kind: 'builtin', cmd: undefined, uses: 'ingest', with: w, deps: [] });
    expect(keyOf(builtin({ source: 'a.csv' }))).not.toBe(keyOf(builtin({ source: 'b.csv' })));
  });

  it('ignores how the step runs: retries, timeout, tags, cache flag, name', () => {
    const base = keyOf(shellStep());
    expect(keyOf(shellStep({ name: 'other', retry: { retries: 5, backoffMs: 1, maxBackoffMs: 2 }, timeoutMs: 10, tags: ['gpu'], cache: false }))).toBe(base);
  });

  it('uses the declared params when none are given', () => {
    expect(cacheKey(shellStep(), { inputVersionHashes: hashes, projectRoot: root })).toBe(keyOf(shellStep(), { k: 3 }));
  });

  it('names a missing dep file', () => {
    const step = shellStep({ deps: ['features.py', 'missing.py'] });
    try {
      keyOf(step);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(FlywheelError);
      expect((err as Error).message).toBe(`step "features": dep file "missing.py" does not exist (looked for ${path.join(root, 'missing.py')})`);
    }
  });

  it('requires a version hash for every declared input, and only those', () => {
    expect(() => keyOf(shellStep(), { k: 3 }, { raw: 'aaaa1111' })).toThrow('step "features": no version hash for input "customers"');
    expect(() => keyOf(shellStep(), { k: 3 }, { ...hashes, extra: 'cc' })).toThrow('step "features": a version hash was given for "extra", which is not an input of the step');
  });
});
