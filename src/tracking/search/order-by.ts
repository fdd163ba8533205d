/**
 * Parses MLflow `order_by` items such as `metrics.acc DESC`, `params.lr`,
 * `tags.\`x y\` ASC` or a bare attribute (`start_time`): one identifier and an
 * optional ASC/DESC (ascending by default, case-insensitive). A bad direction,
 * extra tokens, an unknown entity or attribute, or the same field twice is
 * FW_FILTER_SYNTAX with the position inside the offending item.
 */
import { describeToken, isKeyword, readIdentifier, syntaxError, TokenStream } from './lexer.js';
import { EXPERIMENT_SCOPE, RUN_SCOPE, resolveField, type FilterEntity, type SearchScope } from './fields.js';

export interface OrderClause {
  readonly type: FilterEntity;
  /** Metric/param/tag key, or the canonical attribute name (`created` → `start_time`). */
  readonly key: string;
  readonly ascending: boolean;
}

/** Parses `runs/search` order_by items. */
export function parseOrderBy(items: readonly string[] | null | undefined): OrderClause[] {
  return parseItems(RUN_SCOPE, items);
}

/** Parses `experiments/search` order_by items: `name`, `experiment_id`, `creation_time`, `last_update_time`. */
export function parseExperimentOrderBy(items: readonly string[] | null | undefined): OrderClause[] {
  return parseItems(EXPERIMENT_SCOPE, items);
}

function parseItems(scope: SearchScope, items: readonly string[] | null | undefined): OrderClause[] {
  const clauses: OrderClause[] = [];
  const seen = new Set<string>();
  for (const text of items ?? []) {
    const clause = parseItem(scope, text);
    const id = `${clause.type}\u0000${clause.key}`;
    if (seen.has(id)) throw syntaxError({ label: 'order_by clause', text }, `${clause.type} "${clause.key}" is already ordered by`, 0);
    seen.add(id);
    clauses.push(clause);
  }
  return clauses;
}

function parseItem(scope: SearchScope, text: string): OrderClause {
  const stream = new TokenStream({ label: 'order_by clause', text });
  if (stream.peek().kind === 'eof') stream.fail('empty clause', 0);
  const ref = readIdentifier(stream);
  const field = resolveField(scope, ref, stream.source, 'order');
  let ascending = true;
  const direction = stream.next();
  if (isKeyword(direction, 'DESC')) ascending = false;
  else if (direction.kind !== 'eof' && !isKeyword(direction, 'ASC')) {
    stream.fail(`expected ASC or DESC, found ${describeToken(direction)}`, direction.start);
  }
  const extra = stream.next();
  if (extra.kind !== 'eof') stream.fail(`unexpected ${describeToken(extra)} after the sort direction`, extra.start);
  return { type: field.type, key: field.key, ascending };
}
