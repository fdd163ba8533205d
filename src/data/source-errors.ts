/**
 * Turns DuckDB's reader errors into one-line messages that name the file, the
 * line and the column, e.g. `orders.csv line 3: expected 4 columns, found 3`.
 * DuckDB's own text (several paragraphs of hints) is parsed, never shown raw.
 */
import { FlywheelError, invalidArgument } from '../core/errors.js';

export type ProblemKind = 'ragged' | 'quote' | 'encoding' | 'conversion' | 'json' | 'parquet' | 'other';

export interface SourceProblem {
  kind: ProblemKind;
  file?: string;
  line?: number;
  column?: string;
  /** The offending value (conversion errors). */
  value?: string;
  /** The type the value did not fit. */
  type?: string;
  /** The offending line as read. */
  rawLine?: string;
  expectedColumns?: number;
  foundColumns?: number;
  /** Fallback text: DuckDB's first line. */
  detail: string;
}

const QUARANTINE_HINT = '; --on-bad-rows=quarantine keeps the good rows and sets the bad ones aside';

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim() !== '')?.trim() ?? text;
}

/** Strips DuckDB's "Invalid Input Error: " style prefix. */
function stripPrefix(text: string): string {
  return text.replace(/^[A-Za-z ]*Error: /, '');
}

export function parseDuckdbError(message: string): SourceProblem {
  const detail = stripPrefix(firstLine(message));
  const p: SourceProblem = { kind: 'other', detail };
  const file = /^\s*file = (.+)$/m.exec(message)?.[1]?.trim();
  if (file) p.file = file;
  const line = /CSV Error on Line: (\d+)/.exec(message)?.[1];
  if (line) p.line = Number(line);
  const raw = /^Original Line: (.*)$/m.exec(message)?.[1];
  if (raw !== undefined) p.rawLine = raw;
  let m: RegExpExecArray | null;
  if ((m = /Error when converting column "(.+?)"\. Could not convert string "(.*?)" to '(.+?)'/.exec(message))) {
    return { ...p, kind: 'conversion', column: m[1], value: m[2], type: m[3] };
  }
  if ((m = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(message))) {
    return { ...p, kind: 'ragged', expectedColumns: Number(m[1]), foundColumns: Number(m[2]) };
  }
  if (/Invalid unicode|not utf-8 encoded/i.test(message)) return { ...p, kind: 'encoding' };
  if (/unterminated quote|UNQUOTED VALUE|quoted value/i.test(message) && p.line !== undefined) return { ...p, kind: 'quote' };
  // DuckDB 1.5 counts JSON lines and records from 2 (its "line 3" is the file's second line): corrected here.
  if ((m = /Malformed JSON in file "(.+?)", at byte \d+ in line (\d+): (.*?)\.?\s*$/m.exec(message))) {
    return { ...p, kind: 'json', file: m[1], line: Math.max(1, Number(m[2]) - 1), detail: m[3] };
  }
  if ((m = /Malformed JSON in file "(.+?)", at byte \d+ in record\/value (\d+): (.*?)\.?\s*$/m.exec(message))) {
    return { ...p, kind: 'json', file: m[1], detail: `record ${Math.max(1, Number(m[2]) - 1)}: ${m[3]}` };
  }
  if ((m = /No magic bytes found at end of file '(.+?)'/.exec(message)) || (m = /file '(.+?)'.*(?:too small|not a parquet)/i.exec(message))) {
    return { ...p, kind: 'parquet', file: m[1] };
  }
  return p;
}

function quoteRaw(raw: string | undefined): string {
  if (raw === undefined) return '';
  const t = raw.replace(/\r?\n$/, '');
  return ` ("${t.length > 80 ? t.slice(0, 79) + '…' : t}")`;
}

/** The one-line message for a problem. */
export function describeProblem(p: SourceProblem, { hint = true } = {}): string {
  const where = `${p.file ?? 'source'}${p.line !== undefined ? ` line ${p.line}` : ''}`;
  const h = hint ? QUARANTINE_HINT : '';
  switch (p.kind) {
    case 'ragged':
      return `${where}: expected ${p.expectedColumns} columns, found ${p.foundColumns}${quoteRaw(p.rawLine)}${h}`;
    case 'quote':
      return `${where}${p.column ? `, column "${p.column}"` : ''}: unterminated or misplaced quote${quoteRaw(p.rawLine)}${h}`;
    case 'encoding':
      return `${where}: not valid UTF-8 text; re-encode the file as UTF-8${h}`;
    case 'conversion':
      return `${where}, column "${p.column}": "${p.value}" is not a valid ${p.type} like the column's other values${h}`;
    case 'json':
      return `${where}: malformed JSON (${p.detail})`;
    case 'parquet':
      return `${p.file ?? 'source'} is not a Parquet file`;
    default:
      return `${where}: ${p.detail}`;
  }
}

export function problemError(p: SourceProblem, options?: { hint?: boolean }): FlywheelError {
  const details: Record<string, unknown> = {};
  if (p.file !== undefined) details.file = p.file;
  if (p.line !== undefined) details.line = p.line;
  if (p.column !== undefined) details.column = p.column;
  return invalidArgument(describeProblem(p, options), details);
}

/** True for errors that come from reading the source (as opposed to our own bugs or I/O on our side). */
export function isReaderError(err: unknown): err is Error {
  if (!(err instanceof Error) || err instanceof FlywheelError) return false;
  return /(Invalid Input|Conversion|IO|Binder|Parser) Error/.test(err.message) || /CSV Error|sniff|Malformed JSON|magic bytes/i.test(err.message);
}
