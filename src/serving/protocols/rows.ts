/**
 * Serving's check of request rows against the model signature, run per
 * request BEFORE rows join a micro-batch: one bad request must fail alone, not
 * take the batch (and the other callers in it) down with it.
 *
 * Same rules as `validateRows` (src/models/manifest.ts) plus what arrives over
 * JSON: serving bodies carry non-finite numbers as the strings "NaN",
 * "Infinity" and "-Infinity" (src/server/json-body.ts). For double inputs they
 * become numbers: NaN means a missing value (null, so it is accepted only
 * where the input is nullable), ±Infinity is always refused. Each returned row
 * is a fresh object holding only the signature inputs, so the prediction log
 * stores exactly what the model saw, not the caller's extra fields.
 */
import { invalidArgument } from '../../core/errors.js';
import type { InputType, ModelSignature, SignatureInput } from '../../models/manifest.js';

const TYPE_WORDS: Record<InputType, string> = {
  double: 'a double (a number)',
  long: 'a long (an integer)',
  string: 'a string',
  boolean: 'a boolean',
};

/** A value as an error message shows it. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

const NON_FINITE_STRINGS: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function fieldError(row: number, field: string, what: string) {
  return invalidArgument(`row ${row}: field "${field}" ${what}`, { row, field });
}

/** One value checked (and for doubles, converted) against its input; throws naming row and field. */
function prepareValue(row: number, input: SignatureInput, v: unknown): unknown {
  const name = input.name;
  if (v === undefined) throw fieldError(row, name, 'is missing (the signature requires it)');
  if (v === null) {
    if (input.nullable === true) return null;
    throw fieldError(row, name, 'is null, but the signature does not allow nulls for it');
  }
  switch (input.type) {
    case 'double': {
      let x: number;
      if (typeof v === 'number') x = v;
      else if (typeof v === 'bigint') x = Number(v);
      else if (typeof v === 'string' && Object.hasOwn(NON_FINITE_STRINGS, v)) x = NON_FINITE_STRINGS[v];
      else throw fieldError(row, name, `must be ${TYPE_WORDS.double}, got ${describeValue(v)}`);
      if (Number.isNaN(x)) {
        if (input.nullable === true) return null;
        throw fieldError(row, name, 'is NaN (a missing value), but the signature does not allow nulls for it');
      }
      if (!Number.isFinite(x)) throw fieldError(row, name, `is ${x > 0 ? 'Infinity' : '-Infinity'}; only finite numbers are accepted`);
      return x;
    }
    case 'long':
      if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
      if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
      if ((typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint') {
        throw fieldError(row, name, `must be ${TYPE_WORDS.long} between -(2^53-1) and 2^53-1, got ${describeValue(v)}`);
      }
      throw fieldError(row, name, `must be ${TYPE_WORDS.long}, got ${describeValue(v)}`);
    case 'boolean':
      if (typeof v === 'boolean') return v;
      throw fieldError(row, name, `must be ${TYPE_WORDS.boolean}, got ${describeValue(v)}`);
    case 'string':
      if (typeof v === 'string') return v;
      throw fieldError(row, name, `must be ${TYPE_WORDS.string}, got ${describeValue(v)}`);
  }
}

/**
 * Checks request rows against the signature in one pass and returns new rows
 * holding only the signature inputs (doubles converted, NaN as null). Throws
 * FW_INVALID_ARGUMENT with details `{row, field}` at the first bad value.
 */
export function prepareRows(signature: ModelSignature, rows: unknown[]): Record<string, unknown>[] {
  if (!Array.isArray(rows)) throw invalidArgument(`rows must be an array of objects, got ${describeValue(rows)}`, { field: 'rows' });
  const inputs = signature.inputs;
  const out = new Array<Record<string, unknown>>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw invalidArgument(`row ${i} must be an object of field values, got ${describeValue(row)}`, { row: i });
    }
    const r = row as Record<string, unknown>;
    const prepared: Record<string, unknown> = {};
    for (const input of inputs) prepared[input.name] = prepareValue(i, input, Object.hasOwn(r, input.name) ? r[input.name] : undefined);
    out[i] = prepared;
  }
  return out;
}
