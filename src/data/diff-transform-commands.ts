/**
 * `flywheel data diff REF_A REF_B [--key col[,col]] [--sample N] [--json]`
 * and `flywheel data transform FILE --into NAME [-m msg] [--param k=v]
 * [--json]`, added to the `data` command group. Both work on the local store
 * and engine (--home/--db); rendering for people lives here, the work in
 * diff.ts and transform.ts.
 */
import os from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { collectTag, parseKeyList } from '../cli/options.js';
import { formatNumber, print, renderTable, toJson } from '../cli/output.js';
import { configFrom, type GlobalOptions } from '../cli/session.js';
import type { Engine } from '../engine/index.js';
import type { Store } from '../store/index.js';
import type { TrackingApi } from '../tracking/api.js';
import { diffVersions, MAX_DIFF_SAMPLE, type DatasetDiff, type DiffReader, type DiffRow, type StatChange } from './diff.js';
import { runTransform, TRANSFORMS_EXPERIMENT, type TransformResult } from './transform.js';
import type { DatasetReader, DatasetWriter } from './types.js';

/** What diff and transform need: data, tracking, the engine and the store (lineage edges). */
export interface DataCommandContext {
  data: DiffReader & DatasetWriter & DatasetReader;
  tracking: TrackingApi;
  engine: Engine;
  store: Pick<Store, 'db'>;
}

/** Opens the context for one command and always closes it. */
export type WithDataContext = <T>(globals: GlobalOptions, fn: (ctx: DataCommandContext) => Promise<T>) => Promise<T>;

/** The embedded default: the local store, artifacts and engine named by --home/--db. */
export const withLocalDataContext: WithDataContext = async (globals, fn) => {
  const { openContext } = await import('../server/context.js');
  const ctx = await openContext(configFrom(globals), process.env.USER ?? os.userInfo().username ?? 'cli');
  try {
    return await fn({ data: ctx.data, tracking: ctx.tracking, engine: ctx.engine, store: ctx.store });
  } finally {
    await ctx.close();
  }
};

// ------------------------------------------------------------------ rendering

/** PSI at or above this is conventionally a major shift; from 0.1 a moderate one. */
const PSI_MAJOR = 0.25;
const PSI_MODERATE = 0.1;

function cell(v: unknown, empty = 'null'): string {
  if (v === null || v === undefined) return empty;
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** `a → b`, or just `a` when equal; `empty` stands for null (statistics use "-": not applicable). */
function change(s: StatChange | { a: unknown; b: unknown }, empty = 'null'): string {
  return s.a === s.b ? cell(s.a, empty) : `${cell(s.a, empty)} → ${cell(s.b, empty)}`;
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

function rowsTable(rows: DiffRow[], indent = '  '): string {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const table = renderTable(
    names.map((header) => ({ header, maxWidth: 30 })),
    rows.map((r) => names.map((n) => cell(r[n]))),
  );
  return table
    .trimEnd()
    .split('\n')
    .map((l) => indent + l)
    .join('\n');
}

/** The diff for people: heading, schema changes, a table of column statistics and drift, then row changes. */
export function renderDiff(d: DatasetDiff): string {
  const out: string[] = [];
  const a = `${d.a.dataset}@${d.a.version}`;
  const b = `${d.b.dataset}@${d.b.version}`;
  out.push(`${a} → ${b}: ${d.rowCount.a} → ${d.rowCount.b} rows (${signed(d.rowCount.delta)})${d.sameContent ? ' — same content' : ''}`);

  const { added, removed, retyped } = d.schema;
  if (added.length + removed.length + retyped.length === 0) out.push('Schema: unchanged');
  else {
    out.push('Schema:');
    for (const c of added) out.push(`  + ${c.name} ${c.type}`);
    for (const c of removed) out.push(`  - ${c.name} ${c.type}`);
    for (const c of retyped) out.push(`  ~ ${c.name} ${c.from} → ${c.to}`);
  }

  if (d.columns.length > 0) {
    out.push('', 'Columns in both:');
    const rows = d.columns.map((c) => {
      const psi = c.drift?.psi;
      const level = psi === null || psi === undefined ? '' : psi >= PSI_MAJOR ? ' major' : psi >= PSI_MODERATE ? ' moderate' : '';
      return [
        c.name,
        c.typeA === c.typeB ? c.typeA : `${c.typeA} → ${c.typeB}`,
        change(c.stats.nulls, '-'),
        change(c.stats.distinct, '-'),
        change(c.stats.mean, '-'),
        change(c.stats.std, '-'),
        change(c.stats.min, '-'),
        change(c.stats.max, '-'),
        psi === null || psi === undefined ? '-' : `${psi.toFixed(4)}${level}`,
      ];
    });
    out.push(
      renderTable(
        [
          { header: 'COLUMN', maxWidth: 30 },
          { header: 'TYPE' },
          { header: 'NULLS' },
          { header: 'DISTINCT' },
          { header: 'MEAN', maxWidth: 30 },
          { header: 'STD', maxWidth: 30 },
          { header: 'MIN', maxWidth: 30 },
          { header: 'MAX', maxWidth: 30 },
          { header: 'PSI' },
        ],
        rows,
      ).trimEnd(),
    );
  }

  const r = d.rows;
  if (r) {
    out.push('', `Rows by key (${r.key.join(', ')}): ${r.added} added, ${r.removed} removed, ${r.changed} changed, ${r.unchanged} unchanged`);
    const perColumn = Object.entries(r.changedByColumn).filter(([, n]) => n > 0);
    if (perColumn.length > 0) out.push(`  changed values: ${perColumn.map(([c, n]) => `${c} ${n}`).join(', ')}`);
    const shown = (n: number, total: number) => (n < total ? `first ${n} of ${total}` : `${total}`);
    if (r.samples.added.length > 0) out.push(`Added (${shown(r.samples.added.length, r.added)}):`, rowsTable(r.samples.added));
    if (r.samples.removed.length > 0) out.push(`Removed (${shown(r.samples.removed.length, r.removed)}):`, rowsTable(r.samples.removed));
    if (r.samples.changed.length > 0) {
      out.push(`Changed (${shown(r.samples.changed.length, r.changed)}):`);
      for (const c of r.samples.changed) {
        const k = Object.entries(c.key).map(([n, v]) => `${n}=${cell(v)}`).join(', ');
        out.push(`  ${k}: ${Object.entries(c.changes).map(([n, v]) => `${n} ${change(v)}`).join('; ')}`);
      }
    }
  }
  return out.join('\n') + '\n';
}

export function renderTransform(t: TransformResult): string {
  const inputs = t.inputs.map((i) => `${i.version.dataset}@${i.version.version}`).join(', ') || 'no datasets';
  return `Created ${t.version.dataset}@${t.version.version} (${t.version.rowCount} rows) from ${inputs} — run ${t.runId} in experiment '${TRANSFORMS_EXPERIMENT}'\n`;
}

// ------------------------------------------------------------------ commands

function parseSample(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > MAX_DIFF_SAMPLE) throw new InvalidArgumentError(`expected a whole number from 0 to ${MAX_DIFF_SAMPLE}.`);
  return n;
}

interface DiffOptions {
  key?: string[];
  sample?: number;
  json?: boolean;
}

interface TransformOptions {
  into: string;
  message?: string;
  param?: Record<string, string>;
  json?: boolean;
}

/** Adds `diff` and `transform` to the `data` command group. */
export function registerDiffTransformCommands(data: Command, withContext: WithDataContext = withLocalDataContext): void {
  data
    .command('diff')
    .description('compare two dataset versions: schema, statistics, drift (PSI), and rows by key')
    .argument('<ref-a>', 'the reference version, e.g. orders@2')
    .argument('<ref-b>', 'the version to compare, e.g. orders@3')
    .option('--key <columns>', 'key columns (comma-separated) to count added, removed and changed rows', parseKeyList)
    .option('--sample <n>', 'rows shown per kind of change (default 5)', parseSample)
    .option('--json', 'print the diff as one JSON document')
    .action(async (refA: string, refB: string, opts: DiffOptions, cmd: Command) => {
      const diff = await withContext(cmd.optsWithGlobals<GlobalOptions>(), (ctx) => diffVersions(ctx.data, ctx.engine, refA, refB, { key: opts.key, sample: opts.sample }));
      print(opts.json ? toJson(diff) : renderDiff(diff));
    });

  data
    .command('transform')
    .description("run a SQL file that reads datasets with {{ ref('NAME[@VERSION]') }} and store the result as a new version")
    .argument('<file>', 'the SQL file (one SELECT)')
    .requiredOption('--into <name>', 'the dataset receiving the result')
    .option('-m, --message <text>', 'message of the new version')
    .option('--param <key=value>', 'a param to record on the run (repeatable)', collectTag)
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: TransformOptions, cmd: Command) => {
      const result = await withContext(cmd.optsWithGlobals<GlobalOptions>(), (ctx) =>
        runTransform(ctx, { file }, { into: opts.into, message: opts.message, params: opts.param }),
      );
      print(opts.json ? toJson(result) : renderTransform(result));
    });
}
