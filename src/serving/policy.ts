/**
 * Traffic policies: built from what `flywheel deploy` and the API take,
 * validated, and applied per request.
 *
 * `--model churn@champion` alone is `single`; `--canary churn@challenger:10%`
 * adds a canary arm taking 10% (the primary keeps 90%); `--ab churn/4:50%`
 * splits between arms `a` (the --model) and `b`; `--shadow churn/5` adds an arm
 * that gets a copy of every request. Canary and A/B do not combine; shadow
 * combines with either.
 *
 * Arm choice: with a request key (a user id…), the key's 32-bit FNV-1a hash
 * (avalanched by MurmurHash3's finalizer) picks a point in [0, 100) and the
 * cumulative weights pick the arm, so one key always lands on the same arm
 * for a given policy (sticky), whatever the replica. Without a key the point is random. The hash is salted with the
 * deployment name so two deployments split the same users independently.
 */
import { invalidArgument } from '../core/errors.js';
import { parseModelUri } from '../registry/uri.js';
import { POLICY_KINDS, type Arm, type TrafficPolicy } from './types.js';

export interface PolicyInput {
  /** The primary model (arm `primary`, or `a` in an A/B policy). */
  model: string;
  /** `REF:PERCENT%` (percent in (0, 100)). */
  canary?: string | null;
  ab?: string | null;
  shadow?: string | null;
  /** Row field keying a sticky split. */
  key?: string | null;
}

/** `churn@champion`, `churn/3` or `models:/…` → the `models:/…` form; runs:/ URIs are refused (a deployment serves registered versions). */
export function normalizeModelRef(ref: unknown, field = 'model'): string {
  if (typeof ref !== 'string' || ref.trim() === '') throw invalidArgument(`${field} is required: a registered model reference such as churn@champion or churn/3`, { field });
  const parsed = parseModelUri(ref.trim());
  switch (parsed.kind) {
    case 'run':
      throw invalidArgument(`${field}: a deployment serves registered model versions; register ${ref} first (flywheel models register)`, { field });
    case 'alias':
      return `models:/${parsed.name}@${parsed.alias}`;
    case 'version':
      return `models:/${parsed.name}/${parsed.version}`;
    case 'stage':
      return `models:/${parsed.name}/${parsed.stage}`;
    case 'latest':
      return `models:/${parsed.name}/latest`;
  }
}

/** `REF:10%` or `REF:10` → the reference and the percentage. */
export function parseWeightedRef(spec: unknown, field: string): { model: string; weight: number } {
  if (typeof spec !== 'string') throw invalidArgument(`${field} must be REF:PERCENT%, e.g. churn@challenger:10%`, { field });
  const m = /^(.+):(\d+(?:\.\d+)?)%?$/.exec(spec.trim());
  if (!m) throw invalidArgument(`${field} must be REF:PERCENT%, e.g. churn@challenger:10%; got "${spec}"`, { field });
  const weight = Number(m[2]);
  if (!(weight > 0 && weight < 100)) throw invalidArgument(`${field}: the percentage must be above 0 and below 100, got ${m[2]}`, { field });
  return { model: normalizeModelRef(m[1], field), weight };
}

export function buildPolicy(input: PolicyInput): TrafficPolicy {
  const primary = normalizeModelRef(input.model, 'model');
  if (input.canary && input.ab) throw invalidArgument('canary and ab cannot be combined: a deployment splits traffic one way at a time', { field: 'ab' });
  const key = input.key === undefined || input.key === null || input.key === '' ? null : String(input.key);
  const arms: Arm[] = [];
  let kind: TrafficPolicy['kind'] = 'single';
  if (input.canary) {
    const c = parseWeightedRef(input.canary, 'canary');
    arms.push({ name: 'primary', model: primary, weight: 100 - c.weight, shadow: false }, { name: 'canary', model: c.model, weight: c.weight, shadow: false });
    kind = 'canary';
  } else if (input.ab) {
    const b = parseWeightedRef(input.ab, 'ab');
    arms.push({ name: 'a', model: primary, weight: 100 - b.weight, shadow: false }, { name: 'b', model: b.model, weight: b.weight, shadow: false });
    kind = 'ab';
  } else {
    arms.push({ name: 'primary', model: primary, weight: 100, shadow: false });
  }
  if (input.shadow) {
    arms.push({ name: 'shadow', model: normalizeModelRef(input.shadow, 'shadow'), weight: 0, shadow: true });
    if (kind === 'single') kind = 'shadow';
  }
  return { kind, arms, key };
}

/** Checks a policy read back from JSON (the API may send one whole). */
export function parsePolicy(value: unknown): TrafficPolicy {
  const v = value as Partial<TrafficPolicy> | null;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidArgument('policy must be an object with kind, arms and key', { field: 'policy' });
  if (!POLICY_KINDS.includes(v.kind as never)) throw invalidArgument(`policy.kind must be one of ${POLICY_KINDS.join(', ')}`, { field: 'policy.kind' });
  if (!Array.isArray(v.arms) || v.arms.length === 0) throw invalidArgument('policy.arms must be a non-empty array', { field: 'policy.arms' });
  const names = new Set<string>();
  const arms = v.arms.map((a, i): Arm => {
    const field = `policy.arms[${i}]`;
    if (typeof a !== 'object' || a === null) throw invalidArgument(`${field} must be an object`, { field });
    if (typeof a.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(a.name)) throw invalidArgument(`${field}.name must be 1-64 letters, digits, _ or -`, { field: `${field}.name` });
    if (names.has(a.name)) throw invalidArgument(`${field}.name: arm ${a.name} appears twice`, { field: `${field}.name` });
    names.add(a.name);
    const shadow = a.shadow === true;
    const weight = Number(a.weight);
    if (!Number.isFinite(weight) || weight < 0 || weight > 100 || (shadow && weight !== 0)) throw invalidArgument(`${field}.weight must be a percentage (0 for a shadow arm)`, { field: `${field}.weight` });
    return { name: a.name, model: normalizeModelRef(a.model, `${field}.model`), weight, shadow };
  });
  const live = arms.filter((a) => !a.shadow);
  if (live.length === 0) throw invalidArgument('policy.arms needs at least one arm that is not a shadow', { field: 'policy.arms' });
  const total = live.reduce((s, a) => s + a.weight, 0);
  if (Math.abs(total - 100) > 1e-9) throw invalidArgument(`the weights of the arms that answer must add up to 100, got ${total}`, { field: 'policy.arms' });
  const key = v.key === undefined || v.key === null || v.key === '' ? null : String(v.key);
  return { kind: v.kind as TrafficPolicy['kind'], arms, key };
}

/** 32-bit FNV-1a over the UTF-16 code units of `text`. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * MurmurHash3's 32-bit finalizer: spreads every input bit over every output
 * bit. FNV-1a alone leaves its high bits (which pick the point) poorly mixed
 * for keys that differ only at the end (user-1, user-2…), skewing splits far
 * beyond chance (759..1249 of 10,000 sequential keys on a 10% arm).
 */
function avalanche(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The point in [0, 100) a key falls on for a deployment. */
export function keyPoint(deployment: string, key: string): number {
  return (avalanche(fnv1a(`${deployment}\u0000${key}`)) / 4294967296) * 100;
}

/** The arm that answers (never a shadow) for a key, or at random without one. */
export function chooseArm<A extends Pick<Arm, 'weight' | 'shadow'>>(deployment: string, arms: readonly A[], key: string | null, random: () => number = Math.random): A {
  const point = key === null ? random() * 100 : keyPoint(deployment, key);
  let last: A | undefined;
  let acc = 0;
  for (const arm of arms) {
    if (arm.shadow || arm.weight <= 0) continue;
    acc += arm.weight;
    last = arm;
    if (point < acc) return arm;
  }
  return last!;
}

/** A one-line description: `primary churn@champion 90% · canary churn@challenger 10%`. */
export function describePolicy(policy: TrafficPolicy): string {
  return policy.arms.map((a) => `${a.name} ${a.model.replace(/^models:\//, '')} ${a.shadow ? '(shadow)' : `${a.weight}%`}`).join(' · ') + (policy.key ? ` · key ${policy.key}` : '');
}
