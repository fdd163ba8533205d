/**
 * Gate rules: a small expression language for promotion policies, e.g.
 * `auc >= champion.auc - 0.005` or `fairness.demographic_parity_difference <= 0.1 and rows > 1000`.
 * Parsed by hand (no eval): a rule is data, written by whoever owns the
 * policy file, and must not be able to run code.
 *
 * Grammar (lowest precedence first; and/or are left-associative, a
 * comparison takes exactly two operands — `a < b < c` is an error):
 *
 *   rule    := or
 *   or      := and (("or" | "||") and)*
 *   and     := not (("and" | "&&") not)*
 *   not     := "not" not | cmp
 *   cmp     := sum ((">=" | "<=" | ">" | "<" | "==" | "!=") sum)?
 *   sum     := product (("+" | "-" | "−") product)*
 *   product := unary (("*" | "×" | "/" | "÷") unary)*
 *   unary   := ("-" | "−") unary | number | path | "(" or ")"
 *   path    := ident ("." ident)*        ident := [A-Za-z_][A-Za-z0-9_]*
 *
 * A path names a metric of the challenger; `champion.<path>` the same metric
 * of the version the target alias points at. A rule must be boolean (a
 * comparison, or comparisons joined by and/or/not); arithmetic on a boolean
 * or a bare number as a rule is an error at parse time, with its position.
 */
import { invalidArgument } from '../core/errors.js';

export type Expr =
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'path'; path: string; champion: boolean; pos: number }
  | { kind: 'neg'; arg: Expr; pos: number }
  | { kind: 'arith'; op: '+' | '-' | '*' | '/'; left: Expr; right: Expr; pos: number }
  | { kind: 'compare'; op: '>=' | '<=' | '>' | '<' | '==' | '!='; left: Expr; right: Expr; pos: number }
  | { kind: 'logic'; op: 'and' | 'or'; left: Expr; right: Expr; pos: number }
  | { kind: 'not'; arg: Expr; pos: number };

export interface Rule {
  /** The rule as written. */
  source: string;
  expr: Expr;
  /** Metric paths of the challenger the rule reads, in order of appearance. */
  paths: string[];
  /** Metric paths of the champion (without the `champion.` prefix). */
  championPaths: string[];
}

type Token =
  | { t: 'num'; value: number; pos: number }
  | { t: 'ident'; value: string; pos: number }
  | { t: 'op'; value: string; pos: number }
  | { t: 'end'; pos: number };

/** A syntax error at a 1-based column of the rule. */
function syntaxError(rule: string, pos: number, message: string): never {
  throw invalidArgument(`gate rule "${rule}": ${message} at column ${pos + 1}`);
}

const OPS = ['>=', '<=', '==', '!=', '&&', '||', '>', '<', '+', '-', '*', '/', '(', ')', '.', '−', '×', '÷'];
const CANONICAL: Record<string, string> = { '−': '-', '×': '*', '÷': '/', '&&': 'and', '||': 'or' };

function tokenize(rule: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < rule.length) {
    const c = rule[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(rule.slice(i));
    // A '.' right after an identifier is a path separator, not a number.
    if (num && !(c === '.' && out.length > 0 && out[out.length - 1].t === 'ident')) {
      out.push({ t: 'num', value: Number(num[0]), pos: i });
      i += num[0].length;
      if (i < rule.length && /[A-Za-z_]/.test(rule[i])) syntaxError(rule, i, `unexpected "${rule[i]}" after a number`);
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rule.slice(i));
    if (id) {
      out.push({ t: 'ident', value: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    const op = OPS.find((o) => rule.startsWith(o, i));
    if (op) {
      out.push({ t: 'op', value: CANONICAL[op] ?? op, pos: i });
      i += op.length;
      continue;
    }
    syntaxError(rule, i, `unexpected character "${c}"`);
  }
  out.push({ t: 'end', pos: rule.length });
  return out;
}

const KEYWORDS = new Set(['and', 'or', 'not']);
const isBool = (e: Expr) => e.kind === 'compare' || e.kind === 'logic' || e.kind === 'not';

/** Parses one rule; a syntax or type error is FW_INVALID_ARGUMENT naming the rule and the column. */
export function parseRule(rule: string): Rule {
  if (typeof rule !== 'string' || rule.trim() === '') throw invalidArgument('a gate rule must be a non-empty string');
  const tokens = tokenize(rule);
  let k = 0;
  const peek = () => tokens[k];
  const isOp = (v: string) => {
    const tok = tokens[k];
    return (tok.t === 'op' && tok.value === v) || (tok.t === 'ident' && KEYWORDS.has(v) && tok.value === v);
  };
  const describe = (tok: Token) => (tok.t === 'end' ? 'end of rule' : `"${tok.t === 'num' ? rule.slice(tok.pos).match(/^[\d.eE+-]+/)![0] : tok.value}"`);
  const needNumber = (e: Expr, what: string) => {
    if (isBool(e)) syntaxError(rule, e.pos, `${what} needs a number, not a condition`);
    return e;
  };
  const needBool = (e: Expr, what: string) => {
    if (!isBool(e)) syntaxError(rule, e.pos, `${what} needs a condition (a comparison such as "auc >= 0.8")`);
    return e;
  };

  const parseOr = (): Expr => {
    let left = parseAnd();
    while (isOp('or')) {
      const pos = peek().pos;
      k++;
      const right = parseAnd();
      left = { kind: 'logic', op: 'or', left: needBool(left, '"or"'), right: needBool(right, '"or"'), pos };
    }
    return left;
  };
  const parseAnd = (): Expr => {
    let left = parseNot();
    while (isOp('and')) {
      const pos = peek().pos;
      k++;
      const right = parseNot();
      left = { kind: 'logic', op: 'and', left: needBool(left, '"and"'), right: needBool(right, '"and"'), pos };
    }
    return left;
  };
  const parseNot = (): Expr => {
    if (isOp('not')) {
      const pos = peek().pos;
      k++;
      return { kind: 'not', arg: needBool(parseNot(), '"not"'), pos };
    }
    return parseCompare();
  };
  const parseCompare = (): Expr => {
    const left = parseSum();
    const tok = peek();
    if (tok.t === 'op' && ['>=', '<=', '>', '<', '==', '!='].includes(tok.value)) {
      k++;
      const right = parseSum();
      const next = peek();
      if (next.t === 'op' && ['>=', '<=', '>', '<', '==', '!='].includes(next.value)) syntaxError(rule, next.pos, 'comparisons cannot be chained (join them with "and")');
      const op = tok.value as '>=';
      return { kind: 'compare', op, left: needNumber(left, `"${op}"`), right: needNumber(right, `"${op}"`), pos: tok.pos };
    }
    return left;
  };
  const parseSum = (): Expr => {
    let left = parseProduct();
    for (let tok = peek(); tok.t === 'op' && (tok.value === '+' || tok.value === '-'); tok = peek()) {
      k++;
      left = { kind: 'arith', op: tok.value, left: needNumber(left, `"${tok.value}"`), right: needNumber(parseProduct(), `"${tok.value}"`), pos: tok.pos };
    }
    return left;
  };
  const parseProduct = (): Expr => {
    let left = parseUnary();
    for (let tok = peek(); tok.t === 'op' && (tok.value === '*' || tok.value === '/'); tok = peek()) {
      k++;
      left = { kind: 'arith', op: tok.value, left: needNumber(left, `"${tok.value}"`), right: needNumber(parseUnary(), `"${tok.value}"`), pos: tok.pos };
    }
    return left;
  };
  const parseUnary = (): Expr => {
    const tok = peek();
    if (tok.t === 'op' && tok.value === '-') {
      k++;
      return { kind: 'neg', arg: needNumber(parseUnary(), '"-"'), pos: tok.pos };
    }
    if (tok.t === 'num') {
      k++;
      return { kind: 'number', value: tok.value, pos: tok.pos };
    }
    if (tok.t === 'op' && tok.value === '(') {
      k++;
      const inner = parseOr();
      const close = peek();
      if (!(close.t === 'op' && close.value === ')')) syntaxError(rule, close.pos, `expected ")" but found ${describe(close)}`);
      k++;
      return inner;
    }
    if (tok.t === 'ident' && !KEYWORDS.has(tok.value)) {
      const parts = [tok.value];
      k++;
      while (isOp('.')) {
        k++;
        const next = peek();
        if (next.t !== 'ident') syntaxError(rule, next.pos, `expected a name after "." but found ${describe(next)}`);
        parts.push(next.value);
        k++;
      }
      const champion = parts[0] === 'champion';
      if (champion && parts.length === 1) syntaxError(rule, tok.pos, '"champion" needs a metric, e.g. champion.auc');
      return { kind: 'path', path: (champion ? parts.slice(1) : parts).join('.'), champion, pos: tok.pos };
    }
    return syntaxError(rule, tok.pos, `expected a number, a metric or "(" but found ${describe(tok)}`);
  };

  const expr = parseOr();
  const rest = peek();
  if (rest.t !== 'end') syntaxError(rule, rest.pos, `unexpected ${describe(rest)}`);
  needBool(expr, 'a rule');
  const paths: string[] = [];
  const championPaths: string[] = [];
  const walk = (e: Expr): void => {
    if (e.kind === 'path') {
      const list = e.champion ? championPaths : paths;
      if (!list.includes(e.path)) list.push(e.path);
    } else if (e.kind === 'neg' || e.kind === 'not') walk(e.arg);
    else if (e.kind !== 'number') {
      walk(e.left);
      walk(e.right);
    }
  };
  walk(expr);
  return { source: rule, expr, paths, championPaths };
}

/** Metric path → value (null: the metric exists but has no value, e.g. ROC AUC on one class). */
export type MetricValues = ReadonlyMap<string, number | null>;

export type Verdict = 'pass' | 'fail' | 'skipped';

export interface RuleResult {
  rule: string;
  verdict: Verdict;
  /** Every metric the rule read: `auc`, `champion.auc`… → the observed value. */
  observed: Record<string, number | null>;
  /** For a rule that is one comparison: the values of its two sides. */
  left?: number | null;
  right?: number | null;
  /** Why a rule was skipped, or failed without a verdict of its comparison (a metric with no value). */
  reason?: string;
}

/**
 * Every path the rules read must exist: a challenger path in `challenger`, a
 * champion path in `champion` (or, when there is no champion, in the
 * challenger's set, so a typo is still caught). FW_INVALID_ARGUMENT names the
 * rule and lists the available metrics.
 */
export function checkRulePaths(rules: Rule[], challenger: MetricValues, champion: MetricValues | null): void {
  for (const r of rules) {
    const missing = [...r.paths.filter((p) => !challenger.has(p)), ...r.championPaths.filter((p) => !(champion ?? challenger).has(p)).map((p) => `champion.${p}`)];
    if (missing.length > 0) {
      const available = [...challenger.keys()].sort();
      const shown = available.length > 80 ? [...available.slice(0, 80), `… (${available.length - 80} more)`] : available;
      throw invalidArgument(`gate rule "${r.source}" references unknown metric${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; available metrics: ${shown.join(', ')}`);
    }
  }
}

class NoValue extends Error {}

/**
 * Judges one rule. Without a champion, a rule that reads `champion.` metrics
 * is skipped (the first promotion is judged by the challenger-only rules);
 * a metric without a value fails the rule with the reason.
 */
export function judgeRule(rule: Rule, challenger: MetricValues, champion: MetricValues | null): RuleResult {
  const observed: Record<string, number | null> = {};
  for (const p of rule.paths) observed[p] = challenger.get(p) ?? null;
  if (rule.championPaths.length > 0 && champion === null) {
    return { rule: rule.source, verdict: 'skipped', observed, reason: 'no champion yet: rules that compare with the champion are skipped' };
  }
  for (const p of rule.championPaths) observed[`champion.${p}`] = champion!.get(p) ?? null;
  const num = (e: Expr): number => {
    switch (e.kind) {
      case 'number':
        return e.value;
      case 'path': {
        const v = (e.champion ? champion! : challenger).get(e.path);
        if (v === null || v === undefined || !Number.isFinite(v)) throw new NoValue(`${e.champion ? 'champion.' : ''}${e.path} has no value`);
        return v;
      }
      case 'neg':
        return -num(e.arg);
      case 'arith': {
        const a = num(e.left);
        const b = num(e.right);
        return e.op === '+' ? a + b : e.op === '-' ? a - b : e.op === '*' ? a * b : a / b;
      }
      default:
        throw new Error(`not a number: ${e.kind}`);
    }
  };
  const bool = (e: Expr): boolean => {
    switch (e.kind) {
      case 'compare': {
        const a = num(e.left);
        const b = num(e.right);
        return e.op === '>=' ? a >= b : e.op === '<=' ? a <= b : e.op === '>' ? a > b : e.op === '<' ? a < b : e.op === '==' ? a === b : a !== b;
      }
      case 'logic':
        return e.op === 'and' ? bool(e.left) && bool(e.right) : bool(e.left) || bool(e.right);
      case 'not':
        return !bool(e.arg);
      default:
        throw new Error(`not a condition: ${e.kind}`);
    }
  };
  const result: RuleResult = { rule: rule.source, verdict: 'fail', observed };
  if (rule.expr.kind === 'compare') {
    const side = (e: Expr) => {
      try {
        return num(e);
      } catch (err) {
        if (err instanceof NoValue) return null;
        throw err;
      }
    };
    result.left = side(rule.expr.left);
    result.right = side(rule.expr.right);
  }
  try {
    result.verdict = bool(rule.expr) ? 'pass' : 'fail';
  } catch (err) {
    if (!(err instanceof NoValue)) throw err;
    result.reason = err.message;
  }
  return result;
}
