/**
 * The one template form transform SQL may hold: `{{ ref('NAME') }}` or
 * `{{ ref("NAME@VERSION") }}`, whitespace tolerant, naming a dataset version
 * the way every ref does (NAME, NAME@3, NAME@latest, NAME@<hash prefix>).
 * `parseRefTemplate` finds them with their line and column (1-based, of the
 * opening `{{`); anything else between `{{` and `}}`, or an unclosed `{{`, is
 * an error naming its line and column. `renderRefTemplate` swaps each one for
 * the SQL text a resolver gives its ref. Pure text work: no I/O.
 */
import { invalidArgument } from '../core/errors.js';
import { parseRef } from './names.js';

export interface RefPlaceholder {
  /** The ref as written, e.g. `orders` or `customers@4`. */
  ref: string;
  /** Offsets of the whole `{{ … }}` in the SQL text (end exclusive). */
  start: number;
  end: number;
  /** 1-based position of the opening `{{`. */
  line: number;
  column: number;
}

const REF_CALL = /^\s*ref\s*\(\s*(?:'([^'\n]*)'|"([^"\n]*)")\s*\)\s*$/;

/** 1-based line and column of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Every `{{ ref(…) }}` in `sql`, in order. `where` prefixes error messages
 * (a file name, or "SQL"): `features.sql:3:15: …`.
 */
export function parseRefTemplate(sql: string, where = 'SQL'): RefPlaceholder[] {
  const out: RefPlaceholder[] = [];
  let from = 0;
  for (let open = sql.indexOf('{{', from); open !== -1; open = sql.indexOf('{{', from)) {
    const { line, column } = lineColumn(sql, open);
    const close = sql.indexOf('}}', open + 2);
    const nextOpen = sql.indexOf('{{', open + 2);
    if (close === -1 || (nextOpen !== -1 && nextOpen < close)) {
      throw invalidArgument(`${where}:${line}:${column}: "{{" is not closed by "}}"`, { line, column });
    }
    const inner = sql.slice(open + 2, close);
    const m = REF_CALL.exec(inner);
    if (!m) {
      const shown = inner.trim().length > 60 ? `${inner.trim().slice(0, 59)}…` : inner.trim();
      throw invalidArgument(
        `${where}:${line}:${column}: unsupported template "{{ ${shown} }}": only {{ ref('NAME') }} or {{ ref('NAME@VERSION') }} is allowed`,
        { line, column },
      );
    }
    const ref = m[1] ?? m[2];
    try {
      parseRef(ref);
    } catch (err) {
      throw invalidArgument(`${where}:${line}:${column}: ${(err as Error).message}`, { line, column });
    }
    out.push({ ref, start: open, end: close + 2, line, column });
    from = close + 2;
  }
  return out;
}

/** `sql` with each placeholder replaced by `replacement(placeholder)`. */
export function renderRefTemplate(sql: string, placeholders: RefPlaceholder[], replacement: (p: RefPlaceholder) => string): string {
  let out = '';
  let at = 0;
  for (const p of placeholders) {
    out += sql.slice(at, p.start) + replacement(p);
    at = p.end;
  }
  return out + sql.slice(at);
}
