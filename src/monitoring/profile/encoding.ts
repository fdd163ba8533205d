/**
 * JSON encodings shared by the sketches: float64 arrays as base64 of their
 * little-endian bytes (exact, compact, and able to carry ±Infinity, which JSON
 * numbers cannot), byte arrays as base64, single numbers as JSON numbers or
 * the strings "Infinity" / "-Infinity" / "NaN", and field checks for
 * `fromJSON` that name the field a bad document got wrong.
 */
import { invalidArgument } from '../../core/errors.js';

export type EncodedNumber = number | 'Infinity' | '-Infinity' | 'NaN';

export function encodeNumber(x: number): EncodedNumber {
  if (Number.isFinite(x)) return x;
  if (Number.isNaN(x)) return 'NaN';
  return x > 0 ? 'Infinity' : '-Infinity';
}

export function decodeNumber(v: unknown, field: string): number {
  if (typeof v === 'number') return v;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (v === 'NaN') return NaN;
  throw invalidArgument(`profile field ${field} must be a number`, { field });
}

export function encodeFloat64(values: Float64Array): string {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i], true);
  return Buffer.from(bytes).toString('base64');
}

export function decodeFloat64(v: unknown, field: string): Float64Array {
  const bytes = decodeBytes(v, field);
  if (bytes.length % 8 !== 0) throw invalidArgument(`profile field ${field} is not a whole number of float64 values`, { field });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(bytes.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

export function encodeBytes(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function decodeBytes(v: unknown, field: string): Uint8Array {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) {
    throw invalidArgument(`profile field ${field} must be a base64 string`, { field });
  }
  return new Uint8Array(Buffer.from(v, 'base64'));
}

export function requireObject(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw invalidArgument(`profile field ${field} must be an object`, { field });
  }
  return v as Record<string, unknown>;
}

/** A non-negative integer no larger than 2^53 (counts). */
export function requireCount(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw invalidArgument(`profile field ${field} must be a non-negative integer`, { field, value: v });
  }
  return v;
}

export function requireIntIn(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalidArgument(`profile field ${field} must be an integer in [${min}, ${max}]`, { field, value: v });
  }
  return v;
}

export function requireFinite(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw invalidArgument(`profile field ${field} must be a finite number`, { field, value: v });
  }
  return v;
}
