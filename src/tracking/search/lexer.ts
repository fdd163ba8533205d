/**
 * The lexer shared by every search parser (run and experiment filters, order_by
 * clauses): it cuts the text into words, quoted strings, comparison operators
 * and punctuation, each with its character position, and reads an identifier
 * such as `metrics.acc`, `tags.mlflow.source.name` or `params.\`my key\``.
 * Syntax errors are FW_FILTER_SYNTAX and always name the 0-based position.
 */
import { FlywheelError } from '../../core/errors.js';

export type TokenKind = 'word' | 'string' | 'op' | 'lparen' | 'rparen' | 'comma' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Source text of the token, quotes included. */
  readonly raw: string;
  /** Strings: the text between the quotes with escapes resolved. Others: same as raw. */
  readonly value: string;
  /** Strings: the quote character. */
  readonly quote?: "'" | '"' | '`';
  /** Offset of the first character; `end` is one past the last. */
  readonly start: number;
  readonly end: number;
}

/** What is being parsed, for error messages: `Invalid <label> "<text>": …`. */
export interface Source {
  readonly label: string;
  readonly text: string;
}

export function syntaxError(source: Source, problem: string, position: number): FlywheelError {
  return new FlywheelError('FW_FILTER_SYNTAX', `Invalid ${source.label} "${source.text}": ${problem} at position ${position}`, {
    position,
  });
}

const QUOTES = new Set(["'", '"', '`']);
const OP_CHARS = new Set(['=', '!', '<', '>']);
const PUNCTUATION: Record<string, TokenKind> = { '(': 'lparen', ')': 'rparen', ',': 'comma' };
const isSpace = (c: string) => /\s/.test(c);
const endsWord = (c: string) => isSpace(c) || QUOTES.has(c) || OP_CHARS.has(c) || c in PUNCTUATION;

export function tokenize(source: Source): Token[] {
  const { text } = source;
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const start = i;
    if (isSpace(c)) {
      i++;
    } else if (QUOTES.has(c)) {
      const { value, end } = readQuoted(source, start);
      tokens.push({ kind: 'string', raw: text.slice(start, end), value, quote: c as Token['quote'], start, end });
      i = end;
    } else if (OP_CHARS.has(c)) {
      while (i < text.length && OP_CHARS.has(text[i])) i++;
      tokens.push(plain('op', text, start, i));
    } else if (c in PUNCTUATION) {
      i++;
      tokens.push(plain(PUNCTUATION[c], text, start, i));
    } else {
      while (i < text.length && !endsWord(text[i])) i++;
      tokens.push(plain('word', text, start, i));
    }
  }
  tokens.push({ kind: 'eof', raw: '', value: '', start: text.length, end: text.length });
  return tokens;
}

function plain(kind: TokenKind, text: string, start: number, end: number): Token {
  const raw = text.slice(start, end);
  return { kind, raw, value: raw, start, end };
}

/**
 * Reads a quoted string starting at `start`. Inside it a doubled quote or a
 * backslash before the quote stands for the quote, and `\\` for a backslash;
 * any other backslash is kept as written (so `\_` and `\%` reach LIKE intact).
 */
function readQuoted(source: Source, start: number): { value: string; end: number } {
  const { text } = source;
  const quote = text[start];
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) {
      const next = text[i + 1];
      value += next === quote || next === '\\' ? next : c + next;
      i += 2;
    } else if (c === quote && text[i + 1] === quote) {
      value += quote;
      i += 2;
    } else if (c === quote) {
      return { value, end: i + 1 };
    } else {
      value += c;
      i++;
    }
  }
  throw syntaxError(source, `unterminated string: the ${quote} opened here is never closed`, start);
}

/** A cursor over the tokens of one source. */
export class TokenStream {
  readonly tokens: Token[];
  #index = 0;

  constructor(readonly source: Source) {
    this.tokens = tokenize(source);
  }

  peek(ahead = 0): Token {
    return this.tokens[Math.min(this.#index + ahead, this.tokens.length - 1)];
  }

  next(): Token {
    const token = this.peek();
    if (token.kind !== 'eof') this.#index++;
    return token;
  }

  /** True when the next token is the (case-insensitive) keyword. */
  atKeyword(keyword: string): boolean {
    return isKeyword(this.peek(), keyword);
  }

  fail(problem: string, position: number): never {
    throw syntaxError(this.source, problem, position);
  }
}

export function isKeyword(token: Token, keyword: string): boolean {
  return token.kind === 'word' && token.value.toUpperCase() === keyword.toUpperCase();
}

/** Values are single- or double-quoted; backticks quote keys only. */
export function isStringLiteral(token: Token): boolean {
  return token.kind === 'string' && token.quote !== '`';
}

/** How a token reads in an error message. */
export function describeToken(token: Token): string {
  return token.kind === 'eof' ? 'the end of the text' : `"${token.raw}"`;
}

/** `<entity>.<key>` as written; `entity` is null for a bare name such as `start_time`. */
export interface IdentifierRef {
  readonly entity: string | null;
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

/**
 * Reads one identifier. The key is everything after the first dot of the word
 * (`tags.mlflow.source.name` → key `mlflow.source.name`), or a quoted string
 * right after the dot (`metrics.\`my metric\``, `tags."a b"`).
 */
export function readIdentifier(stream: TokenStream): IdentifierRef {
  const word = stream.next();
  if (word.kind !== 'word') {
    stream.fail(`expected an identifier such as metrics.<key>, params.<key>, tags.<key> or attributes.<key>, found ${describeToken(word)}`, word.start);
  }
  const dot = word.value.indexOf('.');
  if (dot === -1) return { entity: null, key: word.value, start: word.start, end: word.end };
  const entity = word.value.slice(0, dot);
  if (entity === '') stream.fail(`missing entity before "." in ${describeToken(word)}`, word.start);
  let key = word.value.slice(dot + 1);
  let end = word.end;
  if (key === '') {
    const quoted = stream.peek();
    if (quoted.kind !== 'string' || quoted.start !== word.end) stream.fail(`missing key after "${entity}."`, word.end);
    stream.next();
    if (quoted.value === '') stream.fail(`empty key after "${entity}."`, quoted.start);
    key = quoted.value;
    end = quoted.end;
  }
  return { entity, key, start: word.start, end };
}
