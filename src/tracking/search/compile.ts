/**
 * Compiles parsed filters and order_by clauses into one Kysely query over
 * `runs` (or `experiments`). Every user value and key is a bound parameter;
 * the only generated identifiers are our own join aliases (m0, p1, o2…).
 * Metric clauses inner-join `latest_metrics` (NaN points never match), param
 * and tag clauses inner-join their table (`!=` means the key exists with
 * another value, IS NULL means no row with that key); ordering by a keyed
 * entity left-joins it and sorts runs lacking the key last in both directions,
 * NaN metrics just before them. Dialect differences come from adapter flags.
 */
import { sql, type Expression, type Kysely, type Selectable, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { FlywheelError } from '../../core/errors.js';
import type { StoreAdapter } from '../../store/adapter.js';
import type { Database, ExperimentsTable, RunsTable } from '../../store/schema.js';
import { EXPERIMENT_SCOPE, RUN_SCOPE, type AttributeSpec, type NumericOp, type SearchScope } from './fields.js';
import type { FilterClause, ListClause, NullClause, ScalarClause } from './filter.js';
import type { OrderClause } from './order-by.js';

export type LifecycleStage = 'active' | 'deleted';

export interface RunSearchQuery {
  experimentIds: number[];
  lifecycleStages: LifecycleStage[];
  filter: FilterClause[];
  orderBy: OrderClause[];
  offset: number;
  limit: number;
}

export interface ExperimentSearchQuery {
  lifecycleStages: LifecycleStage[];
  filter: FilterClause[];
  orderBy: OrderClause[];
  offset: number;
  limit: number;
}

export type RunRow = Selectable<RunsTable>;
export type ExperimentRow = Selectable<ExperimentsTable>;
export type RunSearchBuilder = SelectQueryBuilder<Database, 'runs', RunRow>;
export type ExperimentSearchBuilder = SelectQueryBuilder<Database, 'experiments', ExperimentRow>;

/** experiments/search without order_by: newest first, as MLflow's SQL store orders them. */
export const DEFAULT_EXPERIMENT_ORDER: readonly OrderClause[] = [
  { type: 'attribute', key: 'creation_time', ascending: false },
  { type: 'attribute', key: 'experiment_id', ascending: true },
];

/** Kysely cannot type aliases made up at run time (m0, p1…), so the dynamic part is built untyped. */
type AnyQuery = SelectQueryBuilder<any, any, any>;

interface KeyedTable {
  readonly table: string;
  readonly prefix: string;
}

/** Where a search reads from: the owning table and the tables holding its keyed entities. */
interface Target {
  readonly scope: SearchScope;
  readonly table: 'runs' | 'experiments';
  readonly id: 'run_id' | 'experiment_id';
  readonly keyed: Partial<Record<'metric' | 'param' | 'tag', KeyedTable>>;
}

const RUNS: Target = {
  scope: RUN_SCOPE,
  table: 'runs',
  id: 'run_id',
  keyed: { metric: { table: 'latest_metrics', prefix: 'm' }, param: { table: 'params', prefix: 'p' }, tag: { table: 'tags', prefix: 't' } },
};

const EXPERIMENTS: Target = {
  scope: EXPERIMENT_SCOPE,
  table: 'experiments',
  id: 'experiment_id',
  keyed: { tag: { table: 'experiment_tags', prefix: 't' } },
};

export function buildRunSearchQuery(db: Kysely<Database>, adapter: StoreAdapter, q: RunSearchQuery): RunSearchBuilder {
  let qb: AnyQuery = db.selectFrom('runs').selectAll('runs');
  qb = qb.where(inList(sql.ref('runs.experiment_id'), q.experimentIds)).where(inList(sql.ref('runs.lifecycle_stage'), q.lifecycleStages));
  qb = applyFilter(qb, RUNS, q.filter, adapter);
  qb = applyOrder(qb, RUNS, q.orderBy);
  // MLflow's natural order breaks every tie: newest first, then run id.
  if (!orders(q.orderBy, 'start_time')) qb = qb.orderBy('runs.start_time', 'desc');
  if (!orders(q.orderBy, 'run_id')) qb = qb.orderBy('runs.run_id', 'asc');
  return page(qb, q) as unknown as RunSearchBuilder;
}

export function buildExperimentSearchQuery(db: Kysely<Database>, adapter: StoreAdapter, q: ExperimentSearchQuery): ExperimentSearchBuilder {
  let qb: AnyQuery = db.selectFrom('experiments').selectAll('experiments');
  qb = qb.where(inList(sql.ref('experiments.lifecycle_stage'), q.lifecycleStages));
  qb = applyFilter(qb, EXPERIMENTS, q.filter, adapter);
  const orderBy = q.orderBy.length > 0 ? q.orderBy : DEFAULT_EXPERIMENT_ORDER;
  qb = applyOrder(qb, EXPERIMENTS, orderBy);
  // MLflow breaks ties of an explicit order by experiment id, descending.
  if (!orders(orderBy, 'experiment_id')) qb = qb.orderBy('experiments.experiment_id', 'desc');
  return page(qb, q) as unknown as ExperimentSearchBuilder;
}

function orders(clauses: readonly OrderClause[], attribute: string): boolean {
  return clauses.some((c) => c.type === 'attribute' && c.key === attribute);
}

function page(qb: AnyQuery, q: { offset: number; limit: number }): AnyQuery {
  for (const name of ['offset', 'limit'] as const) {
    if (!Number.isSafeInteger(q[name]) || q[name] < 0) {
      throw new FlywheelError('FW_INVALID_ARGUMENT', `search ${name} must be a non-negative integer, got ${q[name]}`);
    }
  }
  return qb.limit(q.limit).offset(q.offset);
}

function applyFilter(qb: AnyQuery, target: Target, clauses: readonly FilterClause[], adapter: StoreAdapter): AnyQuery {
  clauses.forEach((clause, i) => {
    if (clause.type === 'attribute') {
      qb = qb.where(attributeCondition(target, clause, adapter));
      return;
    }
    const keyed = keyedTable(target, clause.type);
    const alias = `${keyed.prefix}${i}`;
    const ref = (column: string) => sql.ref(`${alias}.${column}`);
    const belongs = sql<SqlBool>`${ref(target.id)} = ${sql.ref(`${target.table}.${target.id}`)} and ${ref('key')} = ${clause.key}`;
    if (clause.op === 'IS NULL') {
      qb = qb.where(sql<SqlBool>`not exists (select 1 from ${sql.table(keyed.table)} as ${sql.id(alias)} where ${belongs})`);
      return;
    }
    const conditions: Expression<SqlBool>[] = [belongs];
    // NaN is stored as value 0 with is_nan = 1; it compares false with every number.
    if (clause.type === 'metric') conditions.push(sql<SqlBool>`${ref('is_nan')} = 0`);
    if (!isNullClause(clause)) conditions.push(compare(ref('value'), clause, adapter));
    qb = qb.innerJoin(`${keyed.table} as ${alias}`, (join) => join.on((eb) => eb.and(conditions)));
  });
  return qb;
}

function applyOrder(qb: AnyQuery, target: Target, clauses: readonly OrderClause[]): AnyQuery {
  clauses.forEach((clause, i) => {
    const direction = clause.ascending ? 'asc' : 'desc';
    if (clause.type === 'attribute') {
      const spec = attribute(target, clause.key);
      const column = sql.ref(`${target.table}.${spec.column}`);
      // Like a missing key, NULL sorts last in both directions (the dialects disagree by default).
      if (spec.nullable) qb = qb.orderBy(sql`case when ${column} is null then 1 else 0 end`, 'asc');
      qb = qb.orderBy(column, direction);
      return;
    }
    const keyed = keyedTable(target, clause.type);
    const alias = `o${i}`;
    const ref = (column: string) => sql.ref(`${alias}.${column}`);
    qb = qb.leftJoin(`${keyed.table} as ${alias}`, (join) =>
      join.on(sql<SqlBool>`${ref(target.id)} = ${sql.ref(`${target.table}.${target.id}`)} and ${ref('key')} = ${clause.key}`),
    );
    // Real values first, then NaN (metrics only), then runs without the key.
    const rank =
      clause.type === 'metric'
        ? sql`case when ${ref(target.id)} is null then 2 when ${ref('is_nan')} = 1 then 1 else 0 end`
        : sql`case when ${ref(target.id)} is null then 1 else 0 end`;
    qb = qb.orderBy(rank, 'asc').orderBy(ref('value'), direction);
  });
  return qb;
}

function keyedTable(target: Target, type: 'metric' | 'param' | 'tag'): KeyedTable {
  const keyed = target.keyed[type];
  if (!keyed) throw new FlywheelError('FW_FILTER_SYNTAX', `${type}s cannot be searched for ${target.scope.subject}`);
  return keyed;
}

function attribute(target: Target, key: string): AttributeSpec {
  const spec = Object.hasOwn(target.scope.attributes, key) ? target.scope.attributes[key] : undefined;
  if (!spec) throw new FlywheelError('FW_FILTER_SYNTAX', `invalid attribute "${key}" for ${target.scope.subject}`);
  return spec;
}

function attributeCondition(target: Target, clause: FilterClause, adapter: StoreAdapter): Expression<SqlBool> {
  const spec = attribute(target, clause.key);
  if (isNullClause(clause) || !spec.ops.includes(clause.op)) {
    throw new FlywheelError('FW_FILTER_SYNTAX', `comparator ${clause.op} is not supported for attribute "${clause.key}"`);
  }
  const column = sql.ref(`${target.table}.${spec.column}`);
  if (spec.kind !== 'id') return compare(column, clause, adapter);
  // Experiment ids travel as strings of digits (MLflow) and are stored as integers.
  return isListClause(clause)
    ? compare(column, { ...clause, value: clause.value.map(Number) }, adapter)
    : compare(column, { ...clause, value: Number(clause.value) }, adapter);
}

function isNullClause(clause: FilterClause): clause is NullClause {
  return clause.op === 'IS NULL' || clause.op === 'IS NOT NULL';
}

function isListClause(clause: ScalarClause | ListClause): clause is ListClause {
  return clause.op === 'IN' || clause.op === 'NOT IN';
}

const SQL_OPERATORS: Record<NumericOp, string> = { '=': '=', '!=': '<>', '>': '>', '>=': '>=', '<': '<', '<=': '<=' };

/** Backslash escapes `%`, `_` and itself in LIKE patterns on every database (bound, not spelled in SQL). */
const LIKE_ESCAPE = '\\';

type Comparable = ScalarClause | (Omit<ListClause, 'value'> & { readonly value: readonly (string | number)[] });

/** `column <op> value` with the value bound. */
function compare(column: Expression<unknown>, clause: Comparable, adapter: StoreAdapter): Expression<SqlBool> {
  switch (clause.op) {
    case 'LIKE':
      return sql<SqlBool>`${column} like ${clause.value} escape ${LIKE_ESCAPE}`;
    case 'ILIKE':
      return adapter.supportsIlike
        ? sql<SqlBool>`${column} ilike ${clause.value} escape ${LIKE_ESCAPE}`
        : sql<SqlBool>`lower(${column}) like lower(${clause.value}) escape ${LIKE_ESCAPE}`;
    case 'IN':
      return sql<SqlBool>`${column} in (${sql.join(clause.value)})`;
    case 'NOT IN':
      return sql<SqlBool>`${column} not in (${sql.join(clause.value)})`;
    default:
      return sql<SqlBool>`${column} ${sql.raw(SQL_OPERATORS[clause.op])} ${clause.value}`;
  }
}

/** `column in (…)`, or false for an empty list (`in ()` is not SQL). */
function inList(column: Expression<unknown>, values: readonly (string | number)[]): Expression<SqlBool> {
  return values.length === 0 ? sql<SqlBool>`1 = 0` : sql<SqlBool>`${column} in (${sql.join(values)})`;
}
