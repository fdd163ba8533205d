/**
 * What can be searched: the entity prefixes MLflow accepts (`metrics`,
 * `params`, `tags`, `attributes` and their aliases), and for runs and for
 * experiments which attributes exist, which column each maps to, what kind of
 * value it takes and which comparators it allows. The parsers validate against
 * these catalogs and the SQL compiler reads the column names from them.
 */
import type { Source } from './lexer.js';
import { syntaxError, type IdentifierRef } from './lexer.js';

export type FilterEntity = 'metric' | 'param' | 'tag' | 'attribute';

export type NumericOp = '=' | '!=' | '>' | '>=' | '<' | '<=';
export type ScalarOp = NumericOp | 'LIKE' | 'ILIKE';
export type ListOp = 'IN' | 'NOT IN';
export type NullOp = 'IS NULL' | 'IS NOT NULL';
export type FilterOp = ScalarOp | ListOp | NullOp;

/**
 * number: a float (metrics); integer: epoch-ms attributes; string: quoted text;
 * id: an experiment id, quoted or not, kept as its decimal string.
 */
export type ValueKind = 'number' | 'integer' | 'string' | 'id';

/** A resolved left-hand side: what a clause compares and how. */
export interface FieldSpec {
  readonly type: FilterEntity;
  /** Canonical key: the metric/param/tag key, or the attribute name after aliasing (`created` → `start_time`). */
  readonly key: string;
  readonly kind: ValueKind;
  readonly ops: readonly FilterOp[];
}

export interface AttributeSpec {
  readonly key: string;
  readonly column: string;
  readonly kind: ValueKind;
  /** Comparators in filters; empty when the attribute can only be ordered by. */
  readonly ops: readonly FilterOp[];
  readonly orderable: boolean;
  /** The column can hold NULL (sorted last, like a missing key). */
  readonly nullable?: boolean;
}

export interface SearchScope {
  /** "runs" or "experiments", for messages. */
  readonly subject: string;
  readonly entityAliases: Readonly<Record<string, FilterEntity>>;
  /** Value kind and comparators of the keyed entities (metric, param, tag) the scope allows. */
  readonly keyed: Partial<Record<Exclude<FilterEntity, 'attribute'>, { kind: ValueKind; ops: readonly FilterOp[] }>>;
  /** Attribute specs by every accepted name (aliases included). */
  readonly attributes: Readonly<Record<string, AttributeSpec>>;
}

const NUMERIC_OPS: readonly FilterOp[] = ['=', '!=', '>', '>=', '<', '<='];
const STRING_OPS: readonly FilterOp[] = ['=', '!=', 'LIKE', 'ILIKE'];
const STRING_ATTRIBUTE_OPS: readonly FilterOp[] = [...STRING_OPS, 'IN', 'NOT IN'];
const KEYED_STRING_OPS: readonly FilterOp[] = [...STRING_ATTRIBUTE_OPS, 'IS NULL', 'IS NOT NULL'];
const ID_OPS: readonly FilterOp[] = ['=', '!=', 'IN', 'NOT IN'];

const ATTRIBUTE_ALIASES = { attribute: 'attribute', attributes: 'attribute', attr: 'attribute' } as const;
const TAG_ALIASES = { tag: 'tag', tags: 'tag' } as const;

function attributes(specs: AttributeSpec[], aliases: Record<string, string> = {}): Record<string, AttributeSpec> {
  const byName: Record<string, AttributeSpec> = Object.create(null);
  for (const spec of specs) byName[spec.key] = spec;
  for (const [alias, key] of Object.entries(aliases)) byName[alias] = byName[key];
  return byName;
}

const str = (key: string, column = key): AttributeSpec => ({ key, column, kind: 'string', ops: STRING_ATTRIBUTE_OPS, orderable: true });
const time = (key: string, nullable = false): AttributeSpec => ({ key, column: key, kind: 'integer', ops: NUMERIC_OPS, orderable: true, nullable });

export const RUN_SCOPE: SearchScope = {
  subject: 'runs',
  entityAliases: {
    metric: 'metric',
    metrics: 'metric',
    param: 'param',
    params: 'param',
    parameter: 'param',
    parameters: 'param',
    ...TAG_ALIASES,
    ...ATTRIBUTE_ALIASES,
    run: 'attribute',
  },
  keyed: {
    metric: { kind: 'number', ops: NUMERIC_OPS },
    param: { kind: 'string', ops: KEYED_STRING_OPS },
    tag: { kind: 'string', ops: KEYED_STRING_OPS },
  },
  attributes: attributes(
    [
      str('run_id'),
      str('run_name', 'name'),
      str('status'),
      str('artifact_uri'),
      str('user_id'),
      str('lifecycle_stage'),
      time('start_time'),
      time('end_time', true),
      { key: 'experiment_id', column: 'experiment_id', kind: 'id', ops: ID_OPS, orderable: true },
    ],
    { created: 'start_time', Created: 'start_time', 'run name': 'run_name', 'Run name': 'run_name', 'Run Name': 'run_name' },
  ),
};

export const EXPERIMENT_SCOPE: SearchScope = {
  subject: 'experiments',
  entityAliases: { ...TAG_ALIASES, ...ATTRIBUTE_ALIASES },
  keyed: { tag: { kind: 'string', ops: KEYED_STRING_OPS } },
  attributes: attributes([
    { key: 'name', column: 'name', kind: 'string', ops: STRING_OPS, orderable: true },
    time('creation_time'),
    time('last_update_time'),
    { key: 'experiment_id', column: 'experiment_id', kind: 'id', ops: [], orderable: true },
  ]),
};

/** The canonical attribute names a scope accepts for filtering or ordering, for messages. */
export function attributeNames(scope: SearchScope, use: 'filter' | 'order'): string[] {
  return Object.entries(scope.attributes)
    .filter(([name, spec]) => name === spec.key && (use === 'filter' ? spec.ops.length > 0 : spec.orderable))
    .map(([name]) => name);
}

/**
 * Resolves `entity.key` (or a bare attribute name) against a scope, or throws
 * FW_FILTER_SYNTAX naming what is valid.
 */
export function resolveField(scope: SearchScope, ref: IdentifierRef, source: Source, use: 'filter' | 'order'): FieldSpec {
  const type = ref.entity === null ? 'attribute' : Object.hasOwn(scope.entityAliases, ref.entity) ? scope.entityAliases[ref.entity] : undefined;
  if (type === undefined) {
    const valid = [...new Set(Object.values(scope.entityAliases))].map((e) => `${e}s`).join(', ');
    throw syntaxError(source, `unknown entity "${ref.entity}" (valid entities for ${scope.subject}: ${valid})`, ref.start);
  }
  if (type !== 'attribute') {
    const keyed = scope.keyed[type];
    if (!keyed) throw syntaxError(source, `${type}s cannot be searched for ${scope.subject}`, ref.start);
    return { type, key: ref.key, kind: keyed.kind, ops: keyed.ops };
  }
  const spec = Object.hasOwn(scope.attributes, ref.key) ? scope.attributes[ref.key] : undefined;
  const allowed = spec !== undefined && (use === 'filter' ? spec.ops.length > 0 : spec.orderable);
  if (!spec || !allowed) {
    const valid = attributeNames(scope, use).join(', ');
    throw syntaxError(source, `invalid attribute "${ref.key}" (valid attributes for ${scope.subject}: ${valid})`, ref.start);
  }
  return { type, key: spec.key, kind: spec.kind, ops: spec.ops };
}
