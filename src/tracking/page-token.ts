/** Opaque page tokens: base64 of {"offset": n}, as MLflow's SQL store issues them. */
import { invalidArgument } from '../core/errors.js';

export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

export function decodePageToken(token: string | undefined | null): number {
  if (!token) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown };
    if (typeof parsed.offset === 'number' && Number.isSafeInteger(parsed.offset) && parsed.offset >= 0) return parsed.offset;
  } catch {
    // fall through to the error below
  }
  throw invalidArgument(`Invalid page token, could not base64-decode or parse it: "${token.slice(0, 64)}"`);
}
