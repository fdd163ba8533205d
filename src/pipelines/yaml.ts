/**
 * Reads pipelines from YAML (`flywheel.yaml`), in the spirit of dvc.yaml
 * stages:
 *
 *   pipelines:
 *     churn:
 *       concurrency: 4            # optional; also tag_concurrency: { db: 1 }
 *       on_failure: continue      # or fail-fast
 *       steps:
 *         ingest:   { uses: ingest, with: { source: data/orders.csv }, outputs: [raw] }
 *         features: { cmd: python features.py, inputs: { raw: ingest.raw }, deps: [features.py],
 *                     params: { k: 3 }, outputs: [features], retries: 2, timeout: 10m, tags: [db] }
 *         agg:      { sql_file: models/agg.sql, outputs: [agg] }   # or sql: "select … {{ ref('features') }}"
 *       schedule: { cron: "0 * * * *", timezone: UTC, missed: skip }   # optional; missed: skip | catch_up_one
 *       triggers: [{ on: dataset, dataset: orders }, { on: alert, monitor: drift }]   # optional
 *
 * A step may sweep its params (sweep.ts): `sweep: { grid: { lr: [0.1, 0.01] },
 * metric: val_auc, goal: max, parallel: 4 }` or `sweep: { random: { samples: 8,
 * seed: 42, space: { lr: { loguniform: [0.0001, 0.1] }, depth: { int: [2, 8] } } },
 * metric: val_auc }` — the same fields as in TypeScript; a mistake in it points
 * at the field's line.
 *
 * An input is `step.output` or `dataset:NAME@VERSION`. Each step needs exactly
 * one of cmd, sql, sql_file (read relative to the YAML file) or uses. Steps
 * keep the file's order. Only the `pipelines` section is read (other sections
 * of flywheel.yaml belong to other readers). Every mistake is one
 * FW_INVALID_ARGUMENT starting `file:line:column:` and naming the pipeline,
 * step and field; steps are normalized by the same `buildStep` as
 * definePipeline, and each pipeline is checked by validatePipeline.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Document, LineCounter, isMap, isNode, isScalar, parseDocument } from 'yaml';
import { FlywheelError, invalidArgument } from '../core/errors.js';
import { compileCron } from './cron.js';
import { buildStep, parseInputString, type StepSpec } from './define.js';
import { validatePipeline } from './graph.js';
import type { PipelineDefinition, ScheduleSpec, SweepSpec, TriggerSpec } from './types.js';

const STEP_FIELDS = ['uses', 'with', 'cmd', 'sql', 'sql_file', 'inputs', 'outputs', 'params', 'deps', 'retries', 'backoff', 'max_backoff', 'timeout', 'tags', 'cache', 'sweep', 'after'];
const PIPELINE_FIELDS = ['concurrency', 'tag_concurrency', 'on_failure', 'schedule', 'triggers', 'steps'];
const RUN_FIELDS = ['cmd', 'sql', 'sql_file', 'uses'] as const;

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `90s`, `10m`, `2h`, `1d`, `1h30m` → milliseconds; undefined when it does not parse. */
export function parseDuration(text: string): number | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(compact)) return undefined;
  let total = 0;
  for (const [, amount, unit] of compact.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(amount) * DURATION_UNITS[unit];
  return total;
}

export interface ParseYamlOptions {
  /** Directory `sql_file` paths are relative to; default: the source file's directory. */
  baseDir?: string;
}

/** Reads a flywheel.yaml file; errors name the file. */
export function loadPipelinesYaml(file: string): PipelineDefinition[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw invalidArgument(code === 'ENOENT' ? `pipeline file ${file} does not exist` : `cannot read pipeline file ${file}: ${(err as Error).message}`);
  }
  return parsePipelinesYaml(text, file, { baseDir: path.dirname(path.resolve(file)) });
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses YAML text; `source` names it in messages (a file path). */
export function parsePipelinesYaml(text: string, source = 'flywheel.yaml', options: ParseYamlOptions = {}): PipelineDefinition[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const pos = err.linePos?.[0] ?? lineCounter.linePos(err.pos[0]);
    const first = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw invalidArgument(`${source}:${pos.line}:${pos.col}: YAML syntax error: ${first}`);
  }
  const baseDir = options.baseDir ?? path.dirname(path.resolve(source));
  const at = locator(doc, lineCounter, source);
  const root = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (!isObj(root) || !('pipelines' in root)) throw invalidArgument(`${at([])}the file has no "pipelines" section`);
  if (!isObj(root.pipelines)) throw invalidArgument(`${at(['pipelines'])}"pipelines" must be a map of pipeline name → pipeline`);

  const defs: PipelineDefinition[] = [];
  for (const [name, body] of Object.entries(root.pipelines)) {
    const p = ['pipelines', name];
    const where = `pipeline "${name}"`;
    if (!isObj(body)) throw invalidArgument(`${at(p)}${where}: must be a map with "steps"`);
    for (const key of Object.keys(body)) {
      if (!PIPELINE_FIELDS.includes(key)) throw invalidArgument(`${at(p, key)}${where}: unknown field "${key}" (known: ${PIPELINE_FIELDS.join(', ')})`);
    }
    if (!isObj(body.steps)) throw invalidArgument(`${at(body.steps === undefined ? p : [...p, 'steps'])}${where}: field "steps" must be a map of step name → step`);
    const def: PipelineDefinition = { name, steps: [], source };
    if (body.concurrency !== undefined) def.concurrency = body.concurrency as number;
    if (body.tag_concurrency !== undefined) {
      if (!isObj(body.tag_concurrency)) throw invalidArgument(`${at([...p, 'tag_concurrency'])}${where}: field "tag_concurrency" must be a map of tag → limit`);
      def.tagConcurrency = body.tag_concurrency as Record<string, number>;
    }
    if (body.on_failure !== undefined) def.onFailure = body.on_failure as 'fail-fast' | 'continue';
    if (body.schedule !== undefined) def.schedule = readSchedule(body.schedule, (f) => at(f === '' ? [...p, 'schedule'] : [...p, 'schedule', f]), where);
    if (body.triggers !== undefined) def.triggers = readTriggers(body.triggers, (i) => at(i < 0 ? [...p, 'triggers'] : [...p, 'triggers', String(i)]), where);

    for (const [stepName, raw] of Object.entries(body.steps)) {
      const sp = [...p, 'steps', stepName];
      const sWhere = `${where}, step "${stepName}"`;
      const field = (f: string, message: string) => invalidArgument(`${at([...sp, f])}${sWhere}, field "${f}": ${message}`);
      if (!isObj(raw)) throw invalidArgument(`${at(sp)}${sWhere}: must be a map of fields`);
      for (const key of Object.keys(raw)) {
        if (!STEP_FIELDS.includes(key)) throw invalidArgument(`${at(sp, key)}${sWhere}: unknown field "${key}" (known: ${STEP_FIELDS.join(', ')})`);
      }
      const ways = RUN_FIELDS.filter((k) => raw[k] !== undefined);
      if (ways.length === 0) throw invalidArgument(`${at(sp)}${sWhere}: give exactly one of cmd, sql, sql_file or uses (the step has no way to run)`);
      if (ways.length > 1) throw invalidArgument(`${at(sp, ways[1])}${sWhere}: give exactly one of cmd, sql, sql_file or uses (got ${ways.join(' and ')})`);

      const spec: StepSpec = {};
      for (const f of ['cmd', 'sql', 'uses'] as const) {
        if (raw[f] !== undefined) {
          if (typeof raw[f] !== 'string' || (raw[f] as string).trim() === '') throw field(f, 'must be a non-empty string');
          spec[f] = raw[f] as string;
        }
      }
      if (raw.sql_file !== undefined) {
        if (typeof raw.sql_file !== 'string' || raw.sql_file === '') throw field('sql_file', 'must be a file path');
        const full = path.resolve(baseDir, raw.sql_file);
        try {
          spec.sql = fs.readFileSync(full, 'utf8');
        } catch {
          throw field('sql_file', `cannot read "${raw.sql_file}" (looked for ${full})`);
        }
      }
      if (raw.with !== undefined) {
        if (!isObj(raw.with)) throw field('with', 'must be a map');
        spec.with = raw.with;
      }
      if (raw.inputs !== undefined) {
        if (!isObj(raw.inputs)) throw field('inputs', 'must be a map of input name → "step.output" or "dataset:NAME@VERSION"');
        const inputs: Record<string, string> = {};
        for (const [inputName, ref] of Object.entries(raw.inputs)) {
          if (typeof ref !== 'string' || !parseInputString(ref)) {
            throw invalidArgument(
              `${at([...sp, 'inputs', inputName])}${sWhere}, field "inputs.${inputName}": ${JSON.stringify(ref)} is neither "step.output" nor "dataset:NAME@VERSION"`,
            );
          }
          inputs[inputName] = ref;
        }
        spec.inputs = inputs;
      }
      for (const f of ['outputs', 'deps', 'tags', 'after'] as const) {
        if (raw[f] === undefined) continue;
        if (!Array.isArray(raw[f]) || (raw[f] as unknown[]).some((v) => typeof v !== 'string' || v === '')) throw field(f, 'must be a list of names');
        spec[f] = raw[f] as string[];
      }
      if (raw.params !== undefined) {
        if (!isObj(raw.params)) throw field('params', 'must be a map of name → value');
        for (const [k, v] of Object.entries(raw.params)) {
          const ok = typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
          if (!ok) throw invalidArgument(`${at([...sp, 'params', k])}${sWhere}, field "params.${k}": must be a string, a number or a boolean`);
        }
        spec.params = raw.params as StepSpec['params'];
      }
      if (raw.retries !== undefined) {
        if (typeof raw.retries !== 'number' || !Number.isSafeInteger(raw.retries) || raw.retries < 0) throw field('retries', `must be a non-negative integer (got ${JSON.stringify(raw.retries)})`);
        spec.retries = raw.retries;
      }
      const duration = (f: string): number | undefined => {
        const v = raw[f];
        if (v === undefined) return undefined;
        const ms = typeof v === 'string' ? parseDuration(v) : undefined;
        if (ms === undefined || ms <= 0) throw field(f, `${JSON.stringify(v)} is not a duration (e.g. 90s, 10m, 1h30m)`);
        return ms;
      };
      const backoffMs = duration('backoff');
      const maxBackoffMs = duration('max_backoff');
      if (backoffMs !== undefined || maxBackoffMs !== undefined) {
        spec.retry = {};
        if (backoffMs !== undefined) spec.retry.backoffMs = Math.round(backoffMs);
        if (maxBackoffMs !== undefined) spec.retry.maxBackoffMs = Math.round(maxBackoffMs);
      }
      const timeoutMs = duration('timeout');
      if (timeoutMs !== undefined) spec.timeoutMs = timeoutMs;
      if (raw.cache !== undefined) {
        if (typeof raw.cache !== 'boolean') throw field('cache', 'must be true or false');
        spec.cache = raw.cache;
      }
      if (raw.sweep !== undefined) spec.sweep = raw.sweep as SweepSpec;
      // Sweep errors name their field (details.field, e.g. sweep.grid.lr): point at the deepest part of it in the file.
      const position = (err: FlywheelError): string => {
        const field = typeof err.details?.field === 'string' ? err.details.field.split('.') : [];
        for (let n = field.length; n > 0; n--) {
          const pos = at([...sp, ...field.slice(0, n)]);
          if (pos !== `${source}: `) return pos;
        }
        return at(sp);
      };
      def.steps.push(rethrowAt(() => buildStep(stepName, spec, sWhere), position));
    }
    const written = def.triggers?.find((t) => t.on === 'dataset' && def.steps.some((st) => st.outputs.includes(t.dataset)));
    if (written && written.on === 'dataset') {
      throw invalidArgument(`${at([...p, 'triggers'])}${where}: cannot be triggered by dataset "${written.dataset}", which it writes (every run would trigger the next)`);
    }
    try {
      validatePipeline(def);
    } catch (err) {
      // Graph errors name a step: point at it (its key in the file) instead of the bare file name.
      if (!(err instanceof FlywheelError)) throw err;
      const step = /, step "([^"]+)"/.exec(err.message)?.[1];
      if (step === undefined || !err.message.startsWith(`${source}: `) || !(step in body.steps)) throw err;
      throw new FlywheelError(err.code, `${at([...p, 'steps'], step)}${err.message.slice(source.length + 2)}`, err.details);
    }
    defs.push(def);
  }
  return defs;
}

function readSchedule(raw: unknown, at: (field: string) => string, where: string): ScheduleSpec {
  if (typeof raw === 'string') raw = { cron: raw };
  if (!isObj(raw)) throw invalidArgument(`${at('')}${where}: field "schedule" must be a cron string or { cron, timezone, missed }`);
  for (const key of Object.keys(raw)) {
    if (!['cron', 'timezone', 'missed'].includes(key)) throw invalidArgument(`${at('')}${where}, field "schedule": unknown field "${key}" (known: cron, timezone, missed)`);
  }
  if (typeof raw.cron !== 'string' || raw.cron.trim() === '') throw invalidArgument(`${at('cron')}${where}, field "schedule.cron": must be a cron pattern such as "0 * * * *"`);
  if (raw.timezone !== undefined && (typeof raw.timezone !== 'string' || raw.timezone === '')) throw invalidArgument(`${at('timezone')}${where}, field "schedule.timezone": must be an IANA zone such as "Europe/Berlin"`);
  const missed = raw.missed ?? 'skip';
  if (missed !== 'skip' && missed !== 'catch_up_one') throw invalidArgument(`${at('missed')}${where}, field "schedule.missed": must be skip or catch_up_one (got ${JSON.stringify(missed)})`);
  const spec: ScheduleSpec = { cron: raw.cron.trim(), timezone: (raw.timezone as string | undefined) ?? 'UTC', missed };
  rethrowAt(() => compileCron(spec.cron, spec.timezone), `${at('cron')}${where}, field "schedule": `);
  return spec;
}

function readTriggers(raw: unknown, at: (index: number) => string, where: string): TriggerSpec[] {
  if (!Array.isArray(raw)) throw invalidArgument(`${at(-1)}${where}: field "triggers" must be a list such as [{ on: dataset, dataset: orders }]`);
  return raw.map((t, i): TriggerSpec => {
    const bad = (message: string) => invalidArgument(`${at(i)}${where}, trigger ${i + 1}: ${message}`);
    if (!isObj(t)) throw bad('must be { on: dataset, dataset: NAME } or { on: alert, monitor: NAME }');
    const field = t.on === 'dataset' ? 'dataset' : t.on === 'alert' ? 'monitor' : undefined;
    if (field === undefined) throw bad(`field "on" must be dataset or alert (got ${JSON.stringify(t.on)})`);
    for (const key of Object.keys(t)) if (key !== 'on' && key !== field) throw bad(`unknown field "${key}" for on: ${String(t.on)} (known: on, ${field})`);
    const name = t[field];
    if (typeof name !== 'string' || name === '') throw bad(`field "${field}" must be a name`);
    return t.on === 'dataset' ? { on: 'dataset', dataset: name } : { on: 'alert', monitor: name };
  });
}

/** Prefixes a FlywheelError thrown by `fn` with a position (or the position of that error). */
function rethrowAt<T>(fn: () => T, position: string | ((err: FlywheelError) => string)): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof FlywheelError)) throw err;
    const pos = typeof position === 'string' ? position : position(err);
    if (pos !== '') throw new FlywheelError(err.code, `${pos}${err.message}`, err.details);
    throw err;
  }
}

/** `source:line:column: ` of the node at `nodePath` (of its key `key` when given). */
function locator(doc: Document, lineCounter: LineCounter, source: string) {
  return (nodePath: string[], key?: string): string => {
    let offset: number | undefined;
    const node = nodePath.length === 0 ? doc.contents : doc.getIn(nodePath, true);
    if (key !== undefined && isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === key);
      if (pair && isNode(pair.key) && pair.key.range) offset = pair.key.range[0];
    }
    if (offset === undefined && isNode(node) && node.range) offset = node.range[0];
    if (offset === undefined) return `${source}: `;
    const pos = lineCounter.linePos(offset);
    return `${source}:${pos.line}:${pos.col}: `;
  };
}
