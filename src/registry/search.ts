/**
 * MLflow's search grammar for the registry (SearchModelUtils and
 * SearchModelVersionUtils): `registered-models/search` filters on `name` and
 * `tags.<key>`, `model-versions/search` on `name`, `run_id`, `source_path`,
 * `version_number` and `tags.<key>`, clauses joined by AND. It reuses the
 * tracking search's lexer, comparator reader and field catalog (src/tracking/search/lexer.ts, filter.ts,
 * fields.ts) with the registry's own scopes, so errors read the same:
 * FW_FILTER_SYNTAX with the position of the offending token.
 */
import type { FilterOp, SearchScope } from '../tracking/search/fields.js';
import { resolveField } from '../tracking/search/fields.js';
import { describeToken, isKeyword, isStringLiteral, readIdentifier, syntaxError, TokenStream } from '../tracking/search/lexer.js';
import { readComparator } from '../tracking/search/filter.js';

export interface RegistryClause {
  readonly type: 'tag' | 'attribute';
  /** Tag key, or the canonical attribute name. */
  readonly key: string;
  readonly op: FilterOp;
  readonly value: string | number | readonly string[];
}

export interface RegistryOrder {
  /** Canonical attribute name. */
  readonly key: string;
  readonly ascending: boolean;
}

const STRING_OPS: readonly FilterOp[] = ['=', '!=', 'LIKE', 'ILIKE'];
const NUMERIC_OPS: readonly FilterOp[] = ['=', '!=', '>', '>=', '<', '<='];
const ENTITIES = { tag: 'tag', tags: 'tag', attribute: 'attribute', attributes: 'attribute', attr: 'attribute' } as const;

const orderOnly = (key: string) => ({ key, column: key, kind: 'integer' as const, ops: [] as FilterOp[], orderable: true });

export const REGISTERED_MODEL_SCOPE: SearchScope = {
  subject: 'registered models',
  entityAliases: ENTITIES,
  keyed: { tag: { kind: 'string', ops: STRING_OPS } },
  attributes: {
    name: { key: 'name', column: 'name', kind: 'string', ops: STRING_OPS, orderable: true },
    creation_timestamp: orderOnly('creation_timestamp'),
    last_updated_timestamp: orderOnly('last_updated_timestamp'),
    // MLflow's SQL store orders by last_updated_timestamp for "timestamp".
    timestamp: orderOnly('last_updated_timestamp'),
  },
};

export const MODEL_VERSION_SCOPE: SearchScope = {
  subject: 'model versions',
  entityAliases: ENTITIES,
  keyed: { tag: { kind: 'string', ops: STRING_OPS } },
  attributes: {
    name: { key: 'name', column: 'name', kind: 'string', ops: STRING_OPS, orderable: true },
    run_id: { key: 'run_id', column: 'run_id', kind: 'string', ops: [...STRING_OPS, 'IN', 'NOT IN'], orderable: false },
    source_path: { key: 'source_path', column: 'source', kind: 'string', ops: STRING_OPS, orderable: false },
    version_number: { key: 'version_number', column: 'version', kind: 'integer', ops: NUMERIC_OPS, orderable: true },
    creation_timestamp: orderOnly('creation_timestamp'),
    last_updated_timestamp: orderOnly('last_updated_timestamp'),
  },
};

export function parseRegisteredModelFilter(text: string | null | undefined): RegistryClause[] {
  return parseFilter(REGISTERED_MODEL_SCOPE, text);
}

export function parseModelVersionFilter(text: string | null | undefined): RegistryClause[] {
  return parseFilter(MODEL_VERSION_SCOPE, text);
}

export function parseRegisteredModelOrderBy(items: readonly string[] | null | undefined): RegistryOrder[] {
  return parseOrderBy(REGISTERED_MODEL_SCOPE, items);
}

export function parseModelVersionOrderBy(items: readonly string[] | null | undefined): RegistryOrder[] {
  return parseOrderBy(MODEL_VERSION_SCOPE, items);
}

// ------------------------------------------------------------------- filters

function parseFilter(scope: SearchScope, text: string | null | undefined): RegistryClause[] {
  if (!text || text.trim() === '') return [];
  const stream = new TokenStream({ label: 'filter', text });
  const clauses: RegistryClause[] = [];
  for (;;) {
    clauses.push(parseClause(stream, scope));
    const token = stream.next();
    if (token.kind === 'eof') return clauses;
    if (isKeyword(token, 'AND')) continue;
    if (isKeyword(token, 'OR')) stream.fail('OR is not supported (only AND joins clauses)', token.start);
    stream.fail(`expected AND or the end of the filter after a clause, found ${describeToken(token)}`, token.start);
  }
}

function parseClause(stream: TokenStream, scope: SearchScope): RegistryClause {
  const first = stream.peek();
  if (first.kind === 'lparen') stream.fail('parentheses for grouping are not supported (join clauses with AND)', first.start);
  if (first.kind === 'eof') stream.fail(`expected a clause such as name = 'my-model'`, first.start);
  const ref = readIdentifier(stream);
  const field = resolveField(scope, ref, stream.source, 'filter');
  const { op, at } = readComparator(stream, ref, { isNull: false });
  const what = field.type === 'tag' ? `tag "${field.key}"` : `attribute "${field.key}"`;
  if (!field.ops.includes(op)) stream.fail(`comparator ${op} is not supported for ${what} (use ${field.ops.join(', ')})`, at);
  const type = field.type === 'tag' ? 'tag' : 'attribute';
  if (op === 'IN' || op === 'NOT IN') return { type, key: field.key, op, value: readList(stream, what, op) };
  const token = stream.next();
  if (token.kind === 'eof') stream.fail(`missing value after ${op}`, token.start);
  if (field.kind === 'integer') {
    // MLflow reads version_number = 3 and version_number = '3' alike.
    if ((token.kind === 'word' || isStringLiteral(token)) && /^[+-]?\d+$/.test(token.value.trim()) && Number.isSafeInteger(Number(token.value))) {
      return { type, key: field.key, op, value: Number(token.value) };
    }
    stream.fail(`expected an integer for ${what}, found ${describeToken(token)}`, token.start);
  }
  if (!isStringLiteral(token)) stream.fail(`expected a quoted string value for ${what} (e.g. 'my-value'), found ${describeToken(token)}`, token.start);
  if ((op === 'LIKE' || op === 'ILIKE') && /(?:^|[^\\])(?:\\\\)*\\$/.test(token.value)) stream.fail(`${op} pattern ends with the escape character "\\"`, token.start);
  return { type, key: field.key, op, value: token.value };
}

function readList(stream: TokenStream, what: string, op: string): string[] {
  const open = stream.next();
  if (open.kind !== 'lparen') stream.fail(`expected "(" after ${op}, found ${describeToken(open)}`, open.start);
  if (stream.peek().kind === 'rparen') stream.fail(`the ${op} list is empty`, stream.peek().start);
  const values: string[] = [];
  for (;;) {
    const token = stream.next();
    if (!isStringLiteral(token)) stream.fail(`expected a quoted string in the ${op} list for ${what}, found ${describeToken(token)}`, token.start);
    values.push(token.value);
    const separator = stream.next();
    if (separator.kind === 'rparen') return values;
    if (separator.kind === 'eof') stream.fail(`the "(" of the ${op} list is never closed`, open.start);
    if (separator.kind !== 'comma') stream.fail(`expected "," or ")" in the ${op} list, found ${describeToken(separator)}`, separator.start);
  }
}

// ------------------------------------------------------------------ order_by

function parseOrderBy(scope: SearchScope, items: readonly string[] | null | undefined): RegistryOrder[] {
  const out: RegistryOrder[] = [];
  for (const text of items ?? []) {
    const stream = new TokenStream({ label: 'order_by clause', text });
    if (stream.peek().kind === 'eof') stream.fail('empty clause', 0);
    const ref = readIdentifier(stream);
    const field = resolveField(scope, ref, stream.source, 'order');
    if (field.type !== 'attribute') stream.fail(`only attributes can be ordered by for ${scope.subject}`, ref.start);
    let ascending = true;
    const direction = stream.next();
    if (isKeyword(direction, 'DESC')) ascending = false;
    else if (direction.kind !== 'eof' && !isKeyword(direction, 'ASC')) stream.fail(`expected ASC or DESC, found ${describeToken(direction)}`, direction.start);
    const extra = stream.next();
    if (extra.kind !== 'eof') stream.fail(`unexpected ${describeToken(extra)} after the sort direction`, extra.start);
    if (out.some((o) => o.key === field.key)) throw syntaxError(stream.source, `"${field.key}" is already ordered by`, 0);
    out.push({ key: field.key, ascending });
  }
  return out;
}

// -------------------------------------------------------------- LIKE in JS

/** SQL LIKE (`%`, `_`, backslash escapes) as a regular expression, for values the database does not hold. */
export function likeMatches(value: string, pattern: string, caseInsensitive: boolean): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]);
    else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`, caseInsensitive ? 'iu' : 'u').test(value);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
