/**
 * Gated promotion: evaluate a challenger and the current holder of the target
 * alias (the champion) on the same pinned dataset version, judge every rule
 * of a policy, and move the alias only when every rule passes.
 *
 * Order, so that bad input changes nothing: the rules are parsed (when the
 * policy is loaded), the versions, alias and data are resolved, both models
 * are evaluated, and every metric a rule names is checked to exist — any of
 * these failing is a FlywheelError (exit 2) with no event and no alias moved.
 * Only then are the rules judged, the alias moved on a pass (the registry
 * records its own `model_alias.set/moved` event), and ONE `model_promotion`
 * event recorded with each rule's observed values and verdict and the outcome.
 *
 * No champion yet (the target alias is not set): rules that read `champion.`
 * metrics are reported as skipped, and the first promotion passes when the
 * challenger-only rules pass. A policy whose rules all compare with the
 * champion therefore promotes the first challenger unconditionally — the
 * event records that every rule was skipped.
 */
import type { Kysely } from 'kysely';
import { FlywheelError, invalidArgument } from '../core/errors.js';
import { recordEvent } from '../events/service.js';
import type { Database } from '../store/schema.js';
import type { AliasChange, ModelVersion } from '../registry/types.js';
import { validateAlias } from '../registry/rules.js';
import { checkRulePaths, judgeRule, type RuleResult } from './gates.js';
import { metricValues, type Evaluator, type ModelEvaluation } from './evaluator.js';
import type { GatePolicy } from './policy.js';

export const PROMOTION_EVENT = 'model_promotion';

export interface PromoteDeps {
  registry: {
    getModelVersion(name: string, version: number | string): Promise<ModelVersion>;
    getByAlias(name: string, alias: string): Promise<ModelVersion>;
    setAlias(name: string, alias: string, version: number | string): Promise<AliasChange>;
  };
  /** Pins `name@latest` to a version so both models see the same rows. */
  data: { resolve(ref: string): Promise<{ id: string; dataset: string; version: number }> };
  evaluator: Evaluator;
  db: Kysely<Database>;
  actor: string;
  now?: () => number;
}

export interface PromoteInput {
  name: string;
  /** The challenger: an alias (`challenger`) or a version number. */
  from: string;
  /** The alias to move (`champion`). */
  to: string;
  policy: GatePolicy;
  /** Evaluation data `NAME@V`; overrides the policy's `data`. */
  data?: string;
}

export interface SideSummary {
  version: number;
  runId: string | null;
  metrics: Record<string, number | null>;
}

export interface PromotionResult {
  name: string;
  from: string;
  to: string;
  outcome: 'promoted' | 'rejected';
  challenger: SideSummary;
  /** The version the alias pointed at before, evaluated; null when the alias was not set. */
  champion: SideSummary | null;
  dataset: string;
  datasetVersionId: string;
  rules: RuleResult[];
  policy: string | null;
}

const isAliasNotFound = (err: unknown) => err instanceof FlywheelError && err.code === 'FW_NOT_FOUND' && /alias/i.test(err.message);

async function resolveFrom(deps: PromoteDeps, name: string, from: string): Promise<ModelVersion> {
  if (/^\d+$/.test(from)) return deps.registry.getModelVersion(name, Number(from));
  validateAlias(from);
  return deps.registry.getByAlias(name, from);
}

function summary(v: ModelVersion, e: ModelEvaluation): SideSummary {
  const metrics: Record<string, number | null> = {};
  for (const [k, val] of Object.entries(e.report.metrics ?? {})) if (typeof val === 'number' || val === null) metrics[k] = typeof val === 'number' && !Number.isFinite(val) ? null : val;
  return { version: v.version, runId: e.runId ?? null, metrics };
}

export async function promote(deps: PromoteDeps, input: PromoteInput): Promise<PromotionResult> {
  const { name, policy } = input;
  const to = validateAlias(input.to);
  const challenger = await resolveFrom(deps, name, input.from);
  let champion: ModelVersion | null = null;
  try {
    champion = await deps.registry.getByAlias(challenger.name, to);
  } catch (err) {
    if (!isAliasNotFound(err)) throw err;
  }
  const dataRef = input.data ?? policy.data;
  if (dataRef === undefined) throw invalidArgument('promotion needs evaluation data: --data NAME@VERSION or "data:" in the gate policy');
  const dv = await deps.data.resolve(dataRef);
  const dataset = `${dv.dataset}@${dv.version}`;

  const request = (v: ModelVersion) => ({
    model: `models:/${v.name}/${v.version}`,
    name: v.name,
    version: v.version,
    dataset,
    ...(policy.label !== undefined ? { label: policy.label } : {}),
    ...(policy.group !== undefined ? { group: policy.group } : {}),
    ...(policy.slices !== undefined ? { slices: policy.slices } : {}),
    ...(policy.threshold !== undefined ? { threshold: policy.threshold } : {}),
  });
  const challengerEval = await deps.evaluator.evaluate(request(challenger));
  const championEval = champion === null ? null : champion.version === challenger.version ? challengerEval : await deps.evaluator.evaluate(request(champion));
  const challengerValues = metricValues(challengerEval);
  const championValues = championEval === null ? null : metricValues(championEval);
  checkRulePaths(policy.parsed, challengerValues, championValues);

  const rules = policy.parsed.map((r) => judgeRule(r, challengerValues, championValues));
  const passed = rules.every((r) => r.verdict !== 'fail');
  let previousVersion: number | null = champion?.version ?? null;
  if (passed) previousVersion = (await deps.registry.setAlias(challenger.name, to, challenger.version)).previousVersion;

  const result: PromotionResult = {
    name: challenger.name,
    from: input.from,
    to,
    outcome: passed ? 'promoted' : 'rejected',
    challenger: summary(challenger, challengerEval),
    champion: champion && championEval ? summary(champion, championEval) : null,
    dataset,
    datasetVersionId: dv.id,
    rules,
    policy: policy.file ?? policy.name ?? null,
  };
  await recordEvent(deps.db, {
    actor: deps.actor,
    kind: PROMOTION_EVENT,
    entityType: 'registered_model',
    entityId: challenger.name,
    time: (deps.now ?? Date.now)(),
    payload: {
      outcome: result.outcome,
      alias: to,
      from: input.from,
      version: challenger.version,
      previousVersion,
      championVersion: champion?.version ?? null,
      dataset,
      datasetVersionId: dv.id,
      policy: result.policy,
      rules,
      evaluations: { challenger: challengerEval.runId ?? null, champion: championEval?.runId ?? null },
    },
  });
  return result;
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '-' : String(Number(v.toPrecision(6))));

/** The table `models promote` prints: one row per rule with its observed values and verdict. */
export function renderPromotion(r: PromotionResult): string {
  const rows = r.rules.map((x) => [
    x.verdict.toUpperCase(),
    x.rule,
    Object.entries(x.observed)
      .map(([k, v]) => `${k}=${fmt(v)}`)
      .join(', '),
    x.reason ?? (x.left !== undefined ? `${fmt(x.left)} vs ${fmt(x.right)}` : ''),
  ]);
  const widths = [7, 4, 8].map((w, i) => Math.max(w, ...rows.map((row) => row[i].length)));
  const header = ['VERDICT', 'RULE', 'OBSERVED', 'DETAIL'];
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c)).join('  ').trimEnd();
  const head =
    `${r.name}: version ${r.challenger.version} (${r.from}) vs ${r.champion ? `version ${r.champion.version} (@${r.to})` : `no @${r.to} yet`} on ${r.dataset}\n\n`;
  const tail =
    r.outcome === 'promoted' ? `\nPromoted: ${r.name}@${r.to} → version ${r.challenger.version}\n` : `\nNot promoted: ${r.rules.filter((x) => x.verdict === 'fail').length} rule(s) failed; ${r.name}@${r.to} unchanged\n`;
  return head + [line(header), ...rows.map(line)].join('\n') + '\n' + tail;
}
