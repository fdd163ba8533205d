/**
 * Model cards: what a model version is for, what it is, what it was trained
 * on and how, how it was evaluated, and where its data came from — as JSON
 * (`buildModelCard`) and Markdown (`renderModelCard`). A card is generated on
 * demand from facts already stored (the version and registered model, the
 * package manifest, the training run, the dataset version's profile, the
 * latest recorded evaluation, the lineage graph), so every version has one
 * and it is never stale; nothing is written.
 *
 * Parts that do not apply are null (a package without a Flywheel manifest,
 * a version registered without a run), never an error: a card should render
 * for every version the registry holds. Evaluation is reached through an
 * injected lookup (src/evaluation records evaluations as runs).
 */
import { text } from 'node:stream/consumers';
import type { Kysely } from 'kysely';
import { FlywheelError } from '../core/errors.js';
import type { DatasetProfile, DatasetVersion } from '../data/types.js';
import { walkLineage, type LineageNode } from '../lineage/service.js';
import type { Database } from '../store/schema.js';
import type { TrackingApi } from '../tracking/api.js';
import { MANIFEST_FILE } from './manifest.js';
import type { RegistryService } from './service.js';

/** The latest recorded evaluation of a version (the part a card shows), or null when there is none. */
export interface CardEvaluation {
  report: { metrics?: Record<string, unknown>; slices?: Record<string, unknown>; fairness?: Record<string, unknown>; [k: string]: unknown };
  dataset: string;
  rowCount: number;
  featureImportance?: unknown;
  latency?: { p50_ms: number; p99_ms: number } | null;
  runId?: string | null;
  createdTime?: number;
}
export type CardEvaluationLookup = (name: string, version: number) => Promise<CardEvaluation | null>;

export interface ModelCardDeps {
  registry: Pick<RegistryService, 'getModelVersion' | 'getByAlias' | 'getRegisteredModel' | 'resolveModelUri'>;
  tracking: Pick<TrackingApi, 'getRun' | 'getRunArtifact' | 'getExperiment'>;
  data: { getVersion(id: string): Promise<DatasetVersion>; profile(ref: string): Promise<DatasetProfile> };
  db: Kysely<Database>;
  evaluation: CardEvaluationLookup;
  now?: () => number;
}

export interface CardLineageNode {
  type: LineageNode['type'];
  id: string;
  /** `orders@3`, a run's name, `churn/2`. */
  label: string;
  /** Runs: experiment and status; dataset versions: message and author. */
  detail: string;
  /** A dataset version no run produced: data that came in from outside (an ingested source). */
  source?: boolean;
}

export interface ModelCard {
  name: string;
  version: number;
  aliases: string[];
  stage: string;
  tags: Record<string, string>;
  createdTime: number;
  source: string;
  runId: string | null;
  intendedUse: { model: string; version: string };
  package: {
    flavor: string | null;
    task: string | null;
    classes: string[] | null;
    signature: unknown;
    preprocessing: { summary: string[]; raw: unknown } | null;
    libraries: Record<string, string> | null;
  } | null;
  trainingData: {
    dataset: string;
    versionId: string;
    target: string | null;
    rows: number;
    /** Nulls per column from the profile; null when the version has no profile. */
    columns: { name: string; type: string; nulls: number | null }[];
  } | null;
  training: { runId: string; runName: string; status: string; params: Record<string, string>; metrics: Record<string, number> } | null;
  evaluation:
    | { status: 'not evaluated yet' }
    | {
        status: 'evaluated';
        dataset: string;
        rows: number;
        runId: string | null;
        createdTime: number | null;
        metrics: Record<string, unknown>;
        slices: Record<string, unknown>;
        fairness: Record<string, unknown>;
        latency: { p50_ms: number; p99_ms: number } | null;
      };
  featureImportance: { source: 'training' | 'evaluation'; features: { feature: string; importance: number }[] } | null;
  lineage: { nodes: CardLineageNode[]; edges: { from: string; relation: string; to: string }[]; sources: string[] };
  generatedTime: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A missing file or run is "absent" for a card; anything else is a real failure. */
async function optional<T>(fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof FlywheelError && (err.code === 'FW_NOT_FOUND' || err.code === 'FW_INVALID_ARGUMENT')) return null;
    throw err;
  }
}

async function readJson(tracking: ModelCardDeps['tracking'], runId: string, file: string): Promise<unknown> {
  const body = await optional(async () => text(await tracking.getRunArtifact(runId, file)));
  if (body === null) return null;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return null;
  }
}

/** One line per feature of built-in training's preprocessing; the keys of anything else. */
export function summarizePreprocessing(p: unknown): string[] {
  if (!isObject(p)) return [];
  const features = p.features;
  if (!Array.isArray(features)) return Object.keys(p).map((k) => `${k}: ${JSON.stringify(p[k])}`.slice(0, 200));
  return features.filter(isObject).map((f) => {
    const parts: string[] = [];
    if (f.kind === 'numeric') {
      const impute = isObject(f.impute) ? `impute missing with ${String(f.impute.strategy)} (${String(f.impute.value)})` : 'no imputation';
      parts.push(`numeric (${String(f.type)}): ${impute}${isObject(f.scale) ? ', standardized' : ''}`);
    } else if (f.kind === 'categorical') {
      const cats = Array.isArray(f.categories) ? f.categories : [];
      const dropped = typeof f.droppedCategories === 'number' && f.droppedCategories > 0 ? `, ${f.droppedCategories} rare dropped` : '';
      parts.push(`categorical (${String(f.type)}): one-hot over ${cats.length} categor${cats.length === 1 ? 'y' : 'ies'}${cats.includes(null) ? ' incl. missing' : ''}${dropped}, unseen → ${String(f.unseen ?? 'zeros')}`);
    } else {
      parts.push(String(f.kind ?? 'feature'));
    }
    return `${String(f.name)}: ${parts.join('')}`;
  });
}

function importanceFrom(v: unknown): { feature: string; importance: number }[] | null {
  if (isObject(v) && Array.isArray(v.features)) {
    // Permutation importance from an evaluation: { metric, features: [{ feature, importance_mean }] }.
    const out = v.features.filter(isObject).map((f) => ({ feature: String(f.feature), importance: Number(f.importance_mean ?? f.importance) }));
    return out.length > 0 ? out : null;
  }
  if (isObject(v)) {
    const out = Object.entries(v)
      .filter(([, x]) => typeof x === 'number')
      .map(([feature, importance]) => ({ feature, importance: importance as number }));
    return out.length > 0 ? out.sort((a, b) => b.importance - a.importance) : null;
  }
  return null;
}

/** `VERSION_OR_@ALIAS`: `3` or `@champion` (also a bare alias). */
export async function resolveCardVersion(registry: ModelCardDeps['registry'], name: string, ref: string) {
  if (/^\d+$/.test(ref)) return registry.getModelVersion(name, Number(ref));
  return registry.getByAlias(name, ref.startsWith('@') ? ref.slice(1) : ref);
}

export async function buildModelCard(deps: ModelCardDeps, name: string, versionRef: number | string): Promise<ModelCard> {
  const mv = await resolveCardVersion(deps.registry, name, String(versionRef));
  const model = await deps.registry.getRegisteredModel(mv.name);
  const resolved = await deps.registry.resolveModelUri(`models:/${mv.name}/${mv.version}`);

  // The package manifest, when the version is a Flywheel package stored as run artifacts.
  const manifest = resolved.runId && resolved.artifactPath ? await readJson(deps.tracking, resolved.runId, `${resolved.artifactPath}/${MANIFEST_FILE}`) : null;
  const m = isObject(manifest) ? manifest : null;
  const pkg: ModelCard['package'] = m
    ? {
        flavor: typeof m.flavor === 'string' ? m.flavor : null,
        task: typeof m.task === 'string' ? m.task : null,
        classes: Array.isArray(m.classes) ? m.classes.map(String) : null,
        signature: m.signature ?? null,
        preprocessing: m.preprocessing ? { summary: summarizePreprocessing(m.preprocessing), raw: m.preprocessing } : null,
        libraries: isObject(m.libraries) ? (m.libraries as Record<string, string>) : null,
      }
    : mv.flavor
      ? { flavor: mv.flavor, task: mv.task, classes: null, signature: mv.signature, preprocessing: null, libraries: null }
      : null;

  // Training data: the manifest's dataset version, profiled by the data service.
  const training = isObject(m?.training) ? m.training : null;
  let trainingData: ModelCard['trainingData'] = null;
  const dvId = typeof training?.datasetVersionId === 'string' ? training.datasetVersionId : null;
  const dv = dvId ? await optional(() => deps.data.getVersion(dvId)) : null;
  if (dv) {
    const ref = `${dv.dataset}@${dv.version}`;
    const profile = await optional(() => deps.data.profile(ref));
    trainingData = {
      dataset: ref,
      versionId: dv.id,
      target: typeof training?.target === 'string' ? training.target : null,
      rows: profile?.rowCount ?? dv.rowCount,
      columns: profile ? profile.columns.map((c) => ({ name: c.name, type: c.type, nulls: c.nulls })) : dv.schema.map((c) => ({ name: c.name, type: c.type, nulls: null })),
    };
  }

  // The training run: params and metrics.
  const trainingRunId = (typeof training?.runId === 'string' ? training.runId : null) ?? mv.runId;
  const run = trainingRunId ? await optional(() => deps.tracking.getRun(trainingRunId)) : null;
  const trainingPart: ModelCard['training'] = run
    ? {
        runId: run.info.runId,
        runName: run.info.runName,
        status: run.info.status,
        params: run.data.params,
        metrics: Object.fromEntries(run.data.metrics.map((x) => [x.key, x.value])),
      }
    : null;

  const ev = await deps.evaluation(mv.name, mv.version);
  const evaluation: ModelCard['evaluation'] = ev
    ? {
        status: 'evaluated',
        dataset: ev.dataset,
        rows: ev.rowCount,
        runId: ev.runId ?? null,
        createdTime: ev.createdTime ?? null,
        metrics: ev.report.metrics ?? {},
        slices: ev.report.slices ?? {},
        fairness: ev.report.fairness ?? {},
        latency: ev.latency ? { p50_ms: ev.latency.p50_ms, p99_ms: ev.latency.p99_ms } : null,
      }
    : { status: 'not evaluated yet' };

  const fromTraining = run ? importanceFrom(await readJson(deps.tracking, run.info.runId, 'feature_importance.json')) : null;
  const fromEvaluation = fromTraining ? null : importanceFrom(ev?.featureImportance);
  const featureImportance: ModelCard['featureImportance'] = fromTraining
    ? { source: 'training', features: fromTraining }
    : fromEvaluation
      ? { source: 'evaluation', features: fromEvaluation }
      : null;

  return {
    name: mv.name,
    version: mv.version,
    aliases: mv.aliases,
    stage: mv.currentStage,
    tags: mv.tags,
    createdTime: mv.creationTime,
    source: mv.source,
    runId: mv.runId,
    intendedUse: { model: model.description, version: mv.description },
    package: pkg,
    trainingData,
    training: trainingPart,
    evaluation,
    featureImportance,
    lineage: await lineageOf(deps, mv.id, `${mv.name}/${mv.version}`),
    generatedTime: (deps.now ?? Date.now)(),
  };
}

/** Upstream of the version: the runs and dataset versions its data flowed through, down to the data that came from outside. */
async function lineageOf(deps: ModelCardDeps, versionId: string, label: string): Promise<ModelCard['lineage']> {
  const { nodes, edges } = await walkLineage(deps.db, { type: 'model_version', id: versionId }, 'upstream');
  const key = (n: LineageNode) => `${n.type}:${n.id}`;
  const produced = new Set(edges.filter((e) => e.relation === 'produces').map((e) => key(e.to)));
  const labels = new Map<string, string>();
  const out: CardLineageNode[] = [];
  for (const n of nodes) {
    let node: CardLineageNode = { type: n.type, id: n.id, label: n.id, detail: '' };
    if (n.type === 'model_version' && n.id === versionId) node = { ...node, label };
    else if (n.type === 'dataset_version') {
      const v = await optional(() => deps.data.getVersion(n.id));
      node = v ? { ...node, label: `${v.dataset}@${v.version}`, detail: [v.message, v.author ? `by ${v.author}` : ''].filter(Boolean).join(', ') } : { ...node, detail: 'deleted' };
      if (!produced.has(key(n))) node.source = true;
    } else if (n.type === 'run') {
      const r = await optional(() => deps.tracking.getRun(n.id));
      if (r) {
        const exp = await optional(() => deps.tracking.getExperiment(r.info.experimentId));
        node = { ...node, label: r.info.runName || n.id, detail: `${exp ? `experiment ${exp.name}, ` : ''}${r.info.status}` };
      } else node = { ...node, detail: 'deleted' };
    }
    labels.set(key(n), node.label);
    out.push(node);
  }
  return {
    nodes: out,
    edges: edges.map((e) => ({ from: labels.get(key(e.from)) ?? e.from.id, relation: e.relation, to: labels.get(key(e.to)) ?? e.to.id })),
    sources: out.filter((n) => n.source).map((n) => n.label),
  };
}

const num = (v: unknown) => (typeof v === 'number' ? String(Number(v.toPrecision(6))) : v === null || v === undefined ? '-' : String(v));
const cell = (v: unknown) => num(v).replaceAll('|', '\\|');
const table = (header: string[], rows: unknown[][]) =>
  [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
const iso = (ms: number | null | undefined) => (typeof ms === 'number' ? new Date(ms).toISOString() : '-');

/** The card as Markdown: one section per part, tables for metrics, profile and lineage. */
export function renderModelCard(c: ModelCard): string {
  const out: string[] = [];
  out.push(`# Model card: ${c.name} version ${c.version}`, '');
  out.push(
    table(
      ['Field', 'Value'],
      [
        ['Aliases', c.aliases.length ? c.aliases.join(', ') : '-'],
        ['Stage', c.stage],
        ['Registered', iso(c.createdTime)],
        ['Source', c.source],
        ['Run', c.runId ?? '-'],
        ...Object.entries(c.tags).map(([k, v]) => [`Tag ${k}`, v]),
      ],
    ),
    '',
  );

  out.push('## Intended use', '', c.intendedUse.model || '_No description of the registered model._', '');
  if (c.intendedUse.version) out.push(`This version: ${c.intendedUse.version}`, '');

  out.push('## Model', '');
  if (!c.package) out.push('_No Flywheel package manifest._', '');
  else {
    out.push(
      table(
        ['Field', 'Value'],
        [
          ['Flavor', c.package.flavor],
          ['Task', c.package.task],
          ['Classes', c.package.classes ? c.package.classes.join(', ') : '-'],
          ...Object.entries(c.package.libraries ?? {}).map(([k, v]) => [`Library ${k}`, v]),
        ],
      ),
      '',
    );
    const sig = isObject(c.package.signature) ? c.package.signature : null;
    if (sig && Array.isArray(sig.inputs)) {
      out.push('### Signature', '', table(['Input', 'Type', 'Nullable'], sig.inputs.filter(isObject).map((i) => [i.name, i.type, i.nullable ? 'yes' : 'no'])), '');
      if (Array.isArray(sig.outputs)) out.push(table(['Output', 'Type'], sig.outputs.filter(isObject).map((o) => [o.name, o.type])), '');
    }
    if (c.package.preprocessing) out.push('### Preprocessing', '', ...c.package.preprocessing.summary.map((s) => `- ${s}`), '');
  }

  out.push('## Training data', '');
  if (!c.trainingData) out.push('_Unknown: the package names no dataset version._', '');
  else {
    out.push(`Dataset version **${c.trainingData.dataset}** (${c.trainingData.rows} rows, ${c.trainingData.columns.length} columns${c.trainingData.target ? `, target \`${c.trainingData.target}\`` : ''}).`, '');
    out.push(table(['Column', 'Type', 'Nulls'], c.trainingData.columns.map((col) => [col.name, col.type, col.nulls])), '');
  }

  out.push('## Training', '');
  if (!c.training) out.push('_No training run._', '');
  else {
    out.push(`Run ${c.training.runId} (${c.training.runName}, ${c.training.status}).`, '');
    const params = Object.entries(c.training.params);
    if (params.length) out.push('### Parameters', '', table(['Param', 'Value'], params), '');
    const metrics = Object.entries(c.training.metrics);
    if (metrics.length) out.push('### Training metrics', '', table(['Metric', 'Value'], metrics), '');
  }

  out.push('## Evaluation', '');
  const ev = c.evaluation;
  if (ev.status !== 'evaluated') out.push('_Not evaluated yet._', '');
  else {
    out.push(`On **${ev.dataset}** (${ev.rows} rows)${ev.runId ? `, run ${ev.runId}` : ''}${ev.createdTime ? `, ${iso(ev.createdTime)}` : ''}.`, '');
    out.push(table(['Metric', 'Value'], Object.entries(ev.metrics).filter(([, v]) => typeof v === 'number' || v === null)), '');
    if (ev.latency) out.push(`Latency (batch of 1): p50 ${num(ev.latency.p50_ms)} ms, p99 ${num(ev.latency.p99_ms)} ms.`, '');
    const slices = Object.entries(ev.slices);
    if (slices.length) {
      out.push('### Slices', '');
      for (const [column, list] of slices) {
        if (!Array.isArray(list) || list.length === 0) continue;
        const rows = list.filter(isObject);
        const keys = Object.keys(isObject(rows[0]?.metrics) ? rows[0].metrics : {}).slice(0, 6);
        out.push(`By \`${column}\`:`, '', table(['Value', 'Rows', ...keys], rows.map((s) => [s.value ?? '(null)', s.count, ...keys.map((k) => (isObject(s.metrics) ? s.metrics[k] : null))])), '');
      }
    }
    const f = ev.fairness;
    if (Object.keys(f).length) {
      out.push('### Fairness', '', `Sensitive attribute \`${String(f.attribute ?? '-')}\`.`, '');
      out.push(table(['Metric', 'Value'], Object.entries(f).filter(([, v]) => typeof v === 'number' || v === null)), '');
      if (Array.isArray(f.groups) && f.groups.length) {
        const groups = f.groups.filter(isObject);
        const keys = Object.keys(groups[0]).filter((k) => k !== 'group' && k !== 'value');
        out.push(table(['Group', ...keys], groups.map((g) => [g.group ?? g.value ?? '(null)', ...keys.map((k) => g[k])])), '');
      }
    }
  }

  out.push('## Feature importance', '');
  if (!c.featureImportance) out.push('_None recorded._', '');
  else out.push(`From ${c.featureImportance.source === 'training' ? 'the training run' : 'the latest evaluation (permutation importance)'}.`, '', table(['Feature', 'Importance'], c.featureImportance.features.map((x) => [x.feature, x.importance])), '');

  out.push('## Lineage', '');
  if (c.lineage.edges.length === 0) out.push('_No recorded lineage._', '');
  else {
    out.push(table(['From', 'Relation', 'To'], c.lineage.edges.map((e) => [e.from, e.relation, e.to])), '');
    out.push(`Raw data: ${c.lineage.sources.length ? c.lineage.sources.join(', ') : '-'}`, '');
    const described = c.lineage.nodes.filter((n) => n.detail);
    if (described.length) out.push(...described.map((n) => `- ${n.label} (${n.type}): ${n.detail}${n.source ? ' — ingested source' : ''}`), '');
  }
  out.push(`_Generated ${iso(c.generatedTime)} from the registry, tracking, data and lineage records._`, '');
  return out.join('\n');
}
