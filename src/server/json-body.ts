/**
 * JSON request bodies, as MLflow clients really send them. Python's json.dumps
 * writes bare NaN, Infinity and -Infinity for non-finite metrics; standard
 * JSON.parse rejects those. Well-formed JSON takes the fast path; only when it
 * fails are bare non-finite literals outside strings turned into the proto-JSON
 * strings "NaN"/"Infinity"/"-Infinity", which the validators accept.
 */
import { FlywheelError } from '../core/errors.js';

const LITERALS = ['-Infinity', 'Infinity', 'NaN'] as const;

export function quoteNonFiniteLiterals(text: string): string | null {
  let out = '';
  let last = 0;
  let inString = false;
  let changed = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    if (c === 78 /* N */ || c === 73 /* I */ || c === 45 /* - */) {
      for (const lit of LITERALS) {
        if (text.startsWith(lit, i)) {
          out += `${text.slice(last, i)}"${lit}"`;
          i += lit.length - 1;
          last = i + 1;
          changed = true;
          break;
        }
      }
    }
  }
  return changed ? out + text.slice(last) : null;
}

/** Where JSON.parse failed, as "line L, column C", when the engine says. */
function locate(text: string, err: Error): string {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return '';
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return ` at line ${line}, column ${column}`;
}

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    const repaired = quoteNonFiniteLiterals(text);
    if (repaired !== null) {
      try {
        return JSON.parse(repaired);
      } catch {
        // report the original error below
      }
    }
    throw new FlywheelError('FW_MALFORMED_REQUEST', `Malformed JSON in request body${locate(text, err as Error)}: ${(err as Error).message}`);
  }
}
