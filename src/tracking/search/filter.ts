/**
 * Parses MLflow search filter strings (the grammar of MLflow's SearchUtils)
 * into clauses: `<entity>.<key> <comparator> <value>` joined by AND only.
 * Metrics compare with numbers; params, tags and string attributes with quoted
 * strings (also LIKE, ILIKE, IN and NOT IN lists); params and tags also take IS
 * [NOT] NULL. Keywords are case-insensitive. Anything else (OR, grouping
 * parentheses, a metric compared with a string…) is FW_FILTER_SYNTAX with the
 * position of the offending token. The same parser serves experiment filters.
 */
import { describeToken, isKeyword, isStringLiteral, readIdentifier, TokenStream, type IdentifierRef, type Token } from './lexer.js';
import {
  EXPERIMENT_SCOPE,
  RUN_SCOPE,
  resolveField,
  type FieldSpec,
  type FilterEntity,
  type FilterOp,
  type ListOp,
  type NullOp,
  type ScalarOp,
  type SearchScope,
} from './fields.js';

export type { FilterEntity, FilterOp, ListOp, NullOp, NumericOp, ScalarOp } from './fields.js';

interface ClauseBase {
  readonly type: FilterEntity;
  /** Metric/param/tag key, or the canonical attribute name (`created` → `start_time`, `run name` → `run_name`). */
  readonly key: string;
}

/** `=`, `!=`, `>`, `>=`, `<`, `<=`, LIKE, ILIKE: a number (metrics, time attributes) or a string. */
export interface ScalarClause extends ClauseBase {
  readonly op: ScalarOp;
  readonly value: number | string;
}

export interface ListClause extends ClauseBase {
  readonly op: ListOp;
  readonly value: readonly string[];
}

export interface NullClause extends ClauseBase {
  readonly op: NullOp;
  readonly value: null;
}

export type FilterClause = ScalarClause | ListClause | NullClause;

/** Parses a `runs/search` filter; an empty or blank filter has no clauses. */
export function parseRunFilter(text: string | null | undefined): FilterClause[] {
  return parseFilter(RUN_SCOPE, text);
}

/** Parses an `experiments/search` filter: `name`, `creation_time`, `last_update_time` and `tags.<key>`. */
export function parseExperimentFilter(text: string | null | undefined): FilterClause[] {
  return parseFilter(EXPERIMENT_SCOPE, text);
}

function parseFilter(scope: SearchScope, text: string | null | undefined): FilterClause[] {
  if (!text || text.trim() === '') return [];
  const stream = new TokenStream({ label: 'filter', text });
  const clauses: FilterClause[] = [];
  for (;;) {
    clauses.push(parseClause(stream, scope));
    const token = stream.next();
    if (token.kind === 'eof') return clauses;
    if (isKeyword(token, 'AND')) continue;
    if (isKeyword(token, 'OR')) stream.fail('OR is not supported (only AND joins clauses)', token.start);
    if (token.kind === 'rparen') stream.fail('unbalanced ")"', token.start);
    stream.fail(`expected AND or the end of the filter after a clause, found ${describeToken(token)}`, token.start);
  }
}

function parseClause(stream: TokenStream, scope: SearchScope): FilterClause {
  const first = stream.peek();
  if (first.kind === 'lparen') stream.fail('parentheses for grouping are not supported (join clauses with AND)', first.start);
  if (first.kind === 'eof') stream.fail('expected a clause such as metrics.<key> > 0.5', first.start);
  const ref = readIdentifier(stream);
  const field = resolveField(scope, ref, stream.source, 'filter');
  const { op, at } = readComparator(stream, ref);
  if (!field.ops.includes(op)) {
    stream.fail(`comparator ${op} is not supported for ${describeField(field)} (use ${field.ops.join(', ')})`, at);
  }
  const base = { type: field.type, key: field.key };
  if (op === 'IS NULL' || op === 'IS NOT NULL') return { ...base, op, value: null };
  if (op === 'IN' || op === 'NOT IN') return { ...base, op, value: readList(stream, field, op) };
  return { ...base, op, value: readScalar(stream, field, op) };
}

const COMPARISON_OPS = new Set<string>(['=', '!=', '>', '>=', '<', '<=']);

/**
 * Reads the comparator after an identifier. `isNull: false` is for grammars
 * without IS [NOT] NULL (the registry's): there IS is not a comparator at all.
 */
export function readComparator(stream: TokenStream, ref: IdentifierRef, options: { isNull: boolean } = { isNull: true }): { op: FilterOp; at: number } {
  const token = stream.next();
  const at = token.start;
  if (token.kind === 'op') {
    if (COMPARISON_OPS.has(token.value)) return { op: token.value as FilterOp, at };
    stream.fail(`unknown comparator ${describeToken(token)}${token.value === '<>' ? ' (use !=)' : ''}`, at);
  }
  if (token.kind === 'word') {
    const word = token.value.toUpperCase();
    if (word === 'LIKE' || word === 'ILIKE' || word === 'IN') return { op: word, at };
    if (word === 'NOT') {
      const next = stream.next();
      if (isKeyword(next, 'IN')) return { op: 'NOT IN', at };
      stream.fail(`expected IN after NOT, found ${describeToken(next)}`, next.start);
    }
    if (word === 'IS' && options.isNull) {
      let next = stream.next();
      const negated = isKeyword(next, 'NOT');
      if (negated) next = stream.next();
      if (isKeyword(next, 'NULL')) return { op: negated ? 'IS NOT NULL' : 'IS NULL', at };
      stream.fail(`expected NULL after ${negated ? 'IS NOT' : 'IS'}, found ${describeToken(next)}`, next.start);
    }
  }
  const identifier = stream.source.text.slice(ref.start, ref.end);
  stream.fail(`expected a comparator (=, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN${options.isNull ? ', IS NULL' : ''}) after ${identifier}, found ${describeToken(token)}`, at);
}

function describeField(field: FieldSpec): string {
  return `${field.type} "${field.key}"`;
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function readScalar(stream: TokenStream, field: FieldSpec, op: ScalarOp): number | string {
  const token = stream.next();
  if (token.kind === 'eof') stream.fail(`missing value after ${op}`, token.start);
  if (token.kind === 'lparen') stream.fail(`a parenthesized list needs IN or NOT IN, not ${op}`, token.start);
  switch (field.kind) {
    case 'number':
    case 'integer': {
      if (token.kind !== 'word' || !NUMBER.test(token.value)) {
        stream.fail(`expected a numeric value for ${describeField(field)}, found ${describeToken(token)}`, token.start);
      }
      const value = Number(token.value);
      if (field.kind === 'integer' && !Number.isSafeInteger(value)) {
        stream.fail(`expected an integer (epoch milliseconds) for ${describeField(field)}, found ${describeToken(token)}`, token.start);
      }
      return value;
    }
    case 'id':
      return readId(stream, token, field);
    case 'string': {
      if (!isStringLiteral(token)) {
        stream.fail(`expected a quoted string value for ${describeField(field)} (e.g. 'my-value'), found ${describeToken(token)}`, token.start);
      }
      if ((op === 'LIKE' || op === 'ILIKE') && /(?:^|[^\\])(?:\\\\)*\\$/.test(token.value)) {
        stream.fail(`${op} pattern ends with the escape character "\\"`, token.start);
      }
      return token.value;
    }
  }
}

function readList(stream: TokenStream, field: FieldSpec, op: ListOp): string[] {
  const open = stream.next();
  if (open.kind !== 'lparen') stream.fail(`expected "(" after ${op}, found ${describeToken(open)}`, open.start);
  if (stream.peek().kind === 'rparen') stream.fail(`the ${op} list is empty`, stream.peek().start);
  const values: string[] = [];
  for (;;) {
    const token = stream.next();
    if (field.kind === 'id') {
      values.push(readId(stream, token, field));
    } else if (isStringLiteral(token)) {
      values.push(token.value);
    } else {
      stream.fail(`expected a quoted string in the ${op} list for ${describeField(field)}, found ${describeToken(token)}`, token.start);
    }
    const separator = stream.next();
    if (separator.kind === 'rparen') return values;
    if (separator.kind === 'eof') stream.fail(`the "(" of the ${op} list is never closed`, open.start);
    if (separator.kind !== 'comma') stream.fail(`expected "," or ")" in the ${op} list, found ${describeToken(separator)}`, separator.start);
  }
}

/** An experiment id: digits, quoted or not (MLflow ids are strings of digits). */
function readId(stream: TokenStream, token: Token, field: FieldSpec): string {
  const ok = (token.kind === 'word' || isStringLiteral(token)) && /^\d+$/.test(token.value);
  if (!ok) stream.fail(`expected an experiment id (digits) for ${describeField(field)}, found ${describeToken(token)}`, token.start);
  return token.value;
}
