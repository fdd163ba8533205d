/**
 * MLflow search for runs and experiments: parse the filter and order_by
 * strings of `runs/search` and `experiments/search`, then compile them into
 * one parameterized Kysely query that works on SQLite and PostgreSQL alike.
 */
export { parseExperimentFilter, parseRunFilter } from './filter.js';
export type { FilterClause, FilterEntity, FilterOp, ListClause, ListOp, NullClause, NullOp, NumericOp, ScalarClause, ScalarOp } from './filter.js';
export { parseExperimentOrderBy, parseOrderBy } from './order-by.js';
export type { OrderClause } from './order-by.js';
export { buildExperimentSearchQuery, buildRunSearchQuery, DEFAULT_EXPERIMENT_ORDER } from './compile.js';
export type {
  ExperimentRow,
  ExperimentSearchBuilder,
  ExperimentSearchQuery,
  LifecycleStage,
  RunRow,
  RunSearchBuilder,
  RunSearchQuery,
} from './compile.js';
