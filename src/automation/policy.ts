/**
 * Promotion policies: the rules a challenger must pass to take an alias, and
 * the data both versions are evaluated on. Written in YAML
 *
 *   rules:
 *     - "auc >= champion.auc - 0.005"
 *     - "fairness.demographic_parity_difference <= 0.1"
 *     - "p99_latency_ms <= 20"
 *   data: orders@latest        # optional: the evaluation data (`--data` overrides)
 *   label: churned             # optional: label column (default: the model's training target)
 *   group: region              # optional: sensitive attribute for the fairness metrics
 *   slices: [plan]             # optional: slice columns (for slices.<col>.<value>.<metric>)
 *   threshold: 0.5             # optional: classification threshold
 *
 * or in TypeScript/JavaScript with `export default defineGate({ rules: [...] })`.
 * Every rule is parsed when the policy is loaded, so a bad rule is reported
 * (with its column) before any model is evaluated or any alias moves.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { invalidArgument } from '../core/errors.js';
import { parseRule, type Rule } from './gates.js';

export interface GateSpec {
  name?: string;
  rules: string[];
  data?: string;
  label?: string;
  group?: string;
  slices?: string[];
  threshold?: number;
}

export interface GatePolicy extends GateSpec {
  /** The rules, parsed. */
  parsed: Rule[];
  /** The file the policy came from, when it did. */
  file?: string;
}

const KEYS = new Set(['name', 'rules', 'data', 'label', 'group', 'slices', 'threshold']);

/** Checks a policy object and parses its rules; anything wrong is FW_INVALID_ARGUMENT naming the field. */
export function defineGate(spec: GateSpec): GatePolicy {
  const where = 'gate policy';
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw invalidArgument(`${where} must be an object with "rules"`);
  const unknown = Object.keys(spec).filter((k) => !KEYS.has(k) && k !== 'parsed' && k !== 'file');
  if (unknown.length > 0) throw invalidArgument(`${where}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${[...KEYS].join(', ')})`);
  if (!Array.isArray(spec.rules) || spec.rules.length === 0) throw invalidArgument(`${where}: "rules" must be a non-empty list of rules, e.g. ["auc >= champion.auc - 0.005"]`);
  spec.rules.forEach((r, i) => {
    if (typeof r !== 'string') throw invalidArgument(`${where}: rules[${i}] must be a string`);
  });
  for (const key of ['name', 'data', 'label', 'group'] as const) {
    if (spec[key] !== undefined && (typeof spec[key] !== 'string' || spec[key] === '')) throw invalidArgument(`${where}: "${key}" must be a non-empty string`);
  }
  if (spec.slices !== undefined && (!Array.isArray(spec.slices) || spec.slices.some((s) => typeof s !== 'string' || s === ''))) throw invalidArgument(`${where}: "slices" must be a list of column names`);
  if (spec.threshold !== undefined && (typeof spec.threshold !== 'number' || !(spec.threshold >= 0 && spec.threshold <= 1))) throw invalidArgument(`${where}: "threshold" must be a number in [0, 1]`);
  const { parsed: _parsed, file: _file, ...rest } = spec as GatePolicy;
  return { ...rest, rules: [...spec.rules], parsed: spec.rules.map((r) => parseRule(r)) };
}

/** Loads a policy file: `.yaml`/`.yml`/`.json`, or a module (`.ts`, `.js`, `.mjs`) whose default export (or `gate`) is the policy. */
export async function loadGatePolicy(file: string): Promise<GatePolicy> {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw invalidArgument(`gate policy ${file} does not exist`);
  const ext = path.extname(abs).toLowerCase();
  let spec: unknown;
  if (ext === '.yaml' || ext === '.yml' || ext === '.json') {
    try {
      spec = parseYaml(fs.readFileSync(abs, 'utf8'));
    } catch (err) {
      throw invalidArgument(`gate policy ${file} is not valid YAML: ${(err as Error).message}`);
    }
  } else if (['.ts', '.mts', '.js', '.mjs'].includes(ext)) {
    const mod = (await import(pathToFileURL(abs).href)) as { default?: unknown; gate?: unknown };
    spec = mod.default ?? mod.gate;
    if (spec === undefined) throw invalidArgument(`gate policy ${file} exports no policy (export default defineGate({ rules: [...] }))`);
  } else {
    throw invalidArgument(`gate policy ${file}: expected a .yaml, .yml, .json, .ts or .js file`);
  }
  try {
    return { ...defineGate(spec as GateSpec), file: abs };
  } catch (err) {
    if (err instanceof Error) err.message = `${file}: ${err.message}`;
    throw err;
  }
}
