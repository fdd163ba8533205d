/**
 * Traffic policies: the CLI/API shorthand (`--model`, `--canary`, `--ab`,
 * `--shadow`), whole policies read back from JSON, model references, the
 * FNV-1a hash behind sticky splits, and arm choice per request.
 */
import { describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { buildPolicy, chooseArm, fnv1a, normalizeModelRef, parsePolicy } from './policy.js';
import type { Arm } from './types.js';

/** Runs `fn`, expecting FW_INVALID_ARGUMENT; returns the error for closer checks. */
function refused(fn: () => unknown): FlywheelError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FlywheelError);
    expect((err as FlywheelError).code).toBe('FW_INVALID_ARGUMENT');
    return err as FlywheelError;
  }
  throw new Error('expected FW_INVALID_ARGUMENT, nothing was thrown');
}

const arm = (name: string, model: string, weight: number, shadow = false): Arm => ({ name, model, weight, shadow });

describe('buildPolicy (the shorthand)', () => {
  it('--model alone is a single arm taking all traffic', () => {
    expect(buildPolicy({ model: 'churn@champion' })).toEqual({ kind: 'single', arms: [arm('primary', 'models:/churn@champion', 100)], key: null });
  });

  it('--canary REF:10% gives the canary 10% and the primary the other 90%', () => {
    expect(buildPolicy({ model: 'churn@champion', canary: 'churn@challenger:10%' })).toEqual({
      kind: 'canary',
      arms: [arm('primary', 'models:/churn@champion', 90), arm('canary', 'models:/churn@challenger', 10)],
      key: null,
    });
    // The % sign is optional.
    expect(buildPolicy({ model: 'churn/3', canary: 'churn/4:25' }).arms.map((a) => [a.name, a.model, a.weight])).toEqual([
      ['primary', 'models:/churn/3', 75],
      ['canary', 'models:/churn/4', 25],
    ]);
  });

  it('--ab REF:50% splits between arms a (the --model) and b, keyed by a row field when given', () => {
    expect(buildPolicy({ model: 'churn/3', ab: 'churn/4:50%', key: 'user_id' })).toEqual({
      kind: 'ab',
      arms: [arm('a', 'models:/churn/3', 50), arm('b', 'models:/churn/4', 50)],
      key: 'user_id',
    });
  });

  it('--shadow adds a zero-weight shadow arm; alone it makes a shadow policy', () => {
    expect(buildPolicy({ model: 'churn/3', shadow: 'churn/5' })).toEqual({
      kind: 'shadow',
      arms: [arm('primary', 'models:/churn/3', 100), arm('shadow', 'models:/churn/5', 0, true)],
      key: null,
    });
  });

  it('shadow combines with a canary (the kind stays canary)', () => {
    expect(buildPolicy({ model: 'churn/3', canary: 'churn/4:10%', shadow: 'churn/5' })).toEqual({
      kind: 'canary',
      arms: [arm('primary', 'models:/churn/3', 90), arm('canary', 'models:/churn/4', 10), arm('shadow', 'models:/churn/5', 0, true)],
      key: null,
    });
  });

  it('shadow combines with an A/B split', () => {
    const p = buildPolicy({ model: 'churn/3', ab: 'churn/4:30%', shadow: 'churn@next' });
    expect(p.kind).toBe('ab');
    expect(p.arms.map((a) => [a.name, a.weight, a.shadow])).toEqual([
      ['a', 70, false],
      ['b', 30, false],
      ['shadow', 0, true],
    ]);
  });

  it('refuses canary together with ab', () => {
    const err = refused(() => buildPolicy({ model: 'churn/3', canary: 'churn/4:10%', ab: 'churn/5:50%' }));
    expect(err.message).toMatch(/canary/);
    expect(err.message).toMatch(/ab/);
  });

  it.each([
    ['churn/4:0%', /above 0 and below 100/],
    ['churn/4:100%', /above 0 and below 100/],
    ['churn/4:150', /above 0 and below 100/],
    ['churn/4:abc%', /REF:PERCENT%/],
    ['churn/4', /REF:PERCENT%/],
    ['churn/4:-5%', /REF:PERCENT%/],
  ])('refuses the canary percentage in %s, naming the field', (spec, why) => {
    const err = refused(() => buildPolicy({ model: 'churn/3', canary: spec }));
    expect(err.message).toMatch(/^canary/);
    expect(err.message).toMatch(why);
    expect(err.details).toMatchObject({ field: 'canary' });
  });

  it('names the ab field when its percentage is wrong', () => {
    const err = refused(() => buildPolicy({ model: 'churn/3', ab: 'churn/4:100%' }));
    expect(err.details).toMatchObject({ field: 'ab' });
  });

  it('names the model and shadow fields when their references are wrong', () => {
    expect(refused(() => buildPolicy({ model: '' })).details).toMatchObject({ field: 'model' });
    expect(refused(() => buildPolicy({ model: 'churn/3', shadow: 'runs:/0123456789abcdef0123456789abcdef/model' })).details).toMatchObject({ field: 'shadow' });
  });
});

describe('normalizeModelRef', () => {
  it('puts models:/ in front of bare references and keeps models:/ ones', () => {
    expect(normalizeModelRef('churn@champion')).toBe('models:/churn@champion');
    expect(normalizeModelRef('churn/3')).toBe('models:/churn/3');
    expect(normalizeModelRef('churn/latest')).toBe('models:/churn/latest');
    expect(normalizeModelRef('models:/churn@champion')).toBe('models:/churn@champion');
    expect(normalizeModelRef('models:/churn/7')).toBe('models:/churn/7');
    expect(normalizeModelRef('  churn/3  ')).toBe('models:/churn/3');
  });

  it('refuses runs:/ URIs: a deployment serves registered versions', () => {
    const err = refused(() => normalizeModelRef('runs:/0123456789abcdef0123456789abcdef/model', 'model'));
    expect(err.message).toMatch(/register/);
    expect(err.details).toMatchObject({ field: 'model' });
  });

  it('refuses a missing or empty reference, naming the field', () => {
    expect(refused(() => normalizeModelRef(undefined, 'policy.arms[0].model')).details).toMatchObject({ field: 'policy.arms[0].model' });
    expect(refused(() => normalizeModelRef('   ')).details).toMatchObject({ field: 'model' });
    expect(refused(() => normalizeModelRef(42)).details).toMatchObject({ field: 'model' });
  });
});

describe('parsePolicy (a whole policy from JSON)', () => {
  const good = { kind: 'canary', arms: [arm('primary', 'churn/3', 80), arm('canary', 'churn/4', 20)], key: null };

  it('accepts a valid policy and normalizes its model references', () => {
    expect(parsePolicy(good)).toEqual({ kind: 'canary', arms: [arm('primary', 'models:/churn/3', 80), arm('canary', 'models:/churn/4', 20)], key: null });
  });

  it('reads back what buildPolicy made', () => {
    const built = buildPolicy({ model: 'churn@champion', canary: 'churn@challenger:10%', shadow: 'churn/5', key: 'user' });
    expect(parsePolicy(JSON.parse(JSON.stringify(built)))).toEqual(built);
  });

  it('refuses weights of the answering arms that do not add up to 100', () => {
    const err = refused(() => parsePolicy({ ...good, arms: [arm('primary', 'churn/3', 80), arm('canary', 'churn/4', 30)] }));
    expect(err.message).toMatch(/add up to 100/);
    expect(err.message).toMatch(/110/);
    expect(err.details).toMatchObject({ field: 'policy.arms' });
  });

  it('refuses an arm name used twice, naming the arm', () => {
    const err = refused(() => parsePolicy({ ...good, arms: [arm('x', 'churn/3', 50), arm('x', 'churn/4', 50)] }));
    expect(err.details).toMatchObject({ field: 'policy.arms[1].name' });
    expect(err.message).toMatch(/twice/);
  });

  it('refuses a shadow arm with a weight', () => {
    const err = refused(() => parsePolicy({ kind: 'shadow', arms: [arm('primary', 'churn/3', 100), arm('shadow', 'churn/4', 10, true)], key: null }));
    expect(err.details).toMatchObject({ field: 'policy.arms[1].weight' });
  });

  it('refuses a policy whose only arm is a shadow', () => {
    refused(() => parsePolicy({ kind: 'shadow', arms: [arm('shadow', 'churn/4', 0, true)], key: null }));
  });

  it('refuses weights out of range, unknown kinds, bad arm names and non-objects', () => {
    expect(refused(() => parsePolicy({ ...good, arms: [arm('primary', 'churn/3', 120), arm('canary', 'churn/4', -20)] })).details).toMatchObject({ field: 'policy.arms[0].weight' });
    expect(refused(() => parsePolicy({ ...good, kind: 'blue-green' })).details).toMatchObject({ field: 'policy.kind' });
    expect(refused(() => parsePolicy({ ...good, arms: [] })).details).toMatchObject({ field: 'policy.arms' });
    expect(refused(() => parsePolicy({ ...good, arms: [arm('has space', 'churn/3', 100)] })).details).toMatchObject({ field: 'policy.arms[0].name' });
    expect(refused(() => parsePolicy({ ...good, arms: [arm('primary', 'runs:/0123456789abcdef0123456789abcdef/m', 100)] })).details).toMatchObject({ field: 'policy.arms[0].model' });
    expect(refused(() => parsePolicy([good])).details).toMatchObject({ field: 'policy' });
    expect(refused(() => parsePolicy(null)).details).toMatchObject({ field: 'policy' });
  });
});

describe('fnv1a', () => {
  // The published 32-bit FNV-1a test vectors (offset basis 0x811c9dc5, prime 0x01000193).
  it.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['b', 0xe70c2de5],
    ['foobar', 0xbf9cf968],
  ])('hashes %j to the standard vector', (text, hash) => {
    expect(fnv1a(text)).toBe(hash);
  });

  it('returns an unsigned 32-bit integer', () => {
    for (const s of ['x', 'user-1', 'élan', '日本']) {
      const h = fnv1a(s);
      expect(Number.isInteger(h)).toBe(true);
      expect(h).toBeGreaterThanOrEqual(0);
      expect(h).toBeLessThan(2 ** 32);
    }
  });
});

describe('chooseArm', () => {
  const canary = [arm('primary', 'm/1', 90), arm('canary', 'm/2', 10), arm('shadow', 'm/3', 0, true)];

  it('without a key, walks the cumulative weights with a random point in [0, 100)', () => {
    // random() * 100 is the point; primary covers [0, 90), canary [90, 100).
    expect(chooseArm('d', canary, null, () => 0).name).toBe('primary');
    expect(chooseArm('d', canary, null, () => 0.8999).name).toBe('primary');
    expect(chooseArm('d', canary, null, () => 0.9).name).toBe('canary');
    expect(chooseArm('d', canary, null, () => 0.9999).name).toBe('canary');
  });

  it('never picks a shadow arm or an arm of weight 0', () => {
    const arms = [arm('zero', 'm/0', 0), arm('only', 'm/1', 100), arm('shadow', 'm/2', 0, true)];
    for (const r of [0, 0.25, 0.5, 0.999999]) expect(chooseArm('d', arms, null, () => r).name).toBe('only');
    for (let i = 0; i < 100; i++) expect(chooseArm('d', arms, `k${i}`).name).toBe('only');
  });

  it('the same key always lands on the same arm, whatever random() says', () => {
    const ab = [arm('a', 'm/1', 50), arm('b', 'm/2', 50)];
    for (let i = 0; i < 200; i++) {
      const key = `user-${i}`;
      const first = chooseArm('churn', ab, key).name;
      for (const r of [0, 0.3, 0.7, 0.99]) expect(chooseArm('churn', ab, key, () => r).name).toBe(first);
    }
  });

  // Sequential ids are what real keys look like; the split must hold for them on any deployment.
  it.each([
    ['churn', (i: number) => `user-${i}`],
    ['d', (i: number) => `${i}`],
    ['traffic', (i: number) => `${i}`],
    ['fraud', (i: number) => `${i}`],
    ['x', (i: number) => `u${i}@example.com`],
  ])('splits 10,000 distinct keys close to the weights (deployment %s)', (deployment, keyOf) => {
    // n = 10000 keys, p = 0.1 to the canary: mean 1000, sd = sqrt(n p (1 - p)) = 30; accept ±4 sd.
    let canaries = 0;
    for (let i = 0; i < 10_000; i++) if (chooseArm(deployment, canary, keyOf(i)).name === 'canary') canaries++;
    expect(canaries).toBeGreaterThanOrEqual(880);
    expect(canaries).toBeLessThanOrEqual(1120);
  });

  it('splits random requests close to the weights', () => {
    // Same binomial bound as above, with Math.random as the point.
    let canaries = 0;
    for (let i = 0; i < 10_000; i++) if (chooseArm('churn', canary, null).name === 'canary') canaries++;
    expect(canaries).toBeGreaterThanOrEqual(880);
    expect(canaries).toBeLessThanOrEqual(1120);
  });

  it('two deployments split the same keys independently (the hash is salted with the deployment name)', () => {
    const ab = [arm('a', 'm/1', 50), arm('b', 'm/2', 50)];
    let differ = 0;
    for (let i = 0; i < 1000; i++) if (chooseArm('one', ab, `user-${i}`).name !== chooseArm('two', ab, `user-${i}`).name) differ++;
    // Independent 50/50 splits disagree on half the keys: n = 1000, p = 0.5, sd = sqrt(250) ≈ 15.8; ±4 sd ≈ 437..563.
    expect(differ).toBeGreaterThanOrEqual(437);
    expect(differ).toBeLessThanOrEqual(563);
  });
});
