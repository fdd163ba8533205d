/**
 * Dataset names and version refs. A name is a plain token (no path
 * characters), so it is safe in URLs, file names and messages. A ref names a
 * version: `NAME` or `NAME@latest` (the newest), `NAME@3` (version 3), or
 * `NAME@<hex prefix of at least 4 characters>` (by content hash).
 */
import { invalidArgument } from '../core/errors.js';

export const DATASET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The dataset that receives the bad rows of `name` under onBadRows=quarantine. */
export const QUARANTINE_SUFFIX = '__quarantine';

export function quarantineName(name: string): string {
  return `${name}${QUARANTINE_SUFFIX}`;
}

export function validateDatasetName(name: unknown): string {
  if (typeof name !== 'string' || name === '') throw invalidArgument('A dataset name is required');
  if (!DATASET_NAME_PATTERN.test(name)) {
    throw invalidArgument(
      `Invalid dataset name "${name}": use 1-128 letters, digits, "_", "." or "-", starting with a letter or digit (no "/" or other path characters)`,
    );
  }
  return name;
}

export type VersionSelector =
  | { kind: 'latest' }
  | { kind: 'number'; version: number }
  /** A hex prefix; digit-only prefixes are tried as a version number first. */
  | { kind: 'hash'; prefix: string };

export interface ParsedRef {
  name: string;
  selector: VersionSelector;
}

export const MIN_HASH_PREFIX = 4;

export function parseRef(ref: unknown): ParsedRef {
  if (typeof ref !== 'string' || ref === '') throw invalidArgument('A dataset reference is required (NAME, NAME@3, NAME@latest or NAME@<hash prefix>)');
  const at = ref.lastIndexOf('@');
  const name = validateDatasetName(at < 0 ? ref : ref.slice(0, at));
  if (at < 0) return { name, selector: { kind: 'latest' } };
  const sel = ref.slice(at + 1);
  if (sel === 'latest') return { name, selector: { kind: 'latest' } };
  if (/^[0-9]+$/.test(sel) && sel.length < MIN_HASH_PREFIX) {
    const version = Number(sel);
    if (version < 1) throw invalidArgument(`Invalid version "${sel}" in "${ref}": versions start at 1`);
    return { name, selector: { kind: 'number', version } };
  }
  if (/^[0-9]+$/.test(sel) && Number.isSafeInteger(Number(sel)) && !/^0/.test(sel)) {
    // Four or more digits: a version number if one exists, else a hash prefix (the service decides).
    return { name, selector: { kind: 'number', version: Number(sel) } };
  }
  if (/^[0-9a-fA-F]+$/.test(sel) && sel.length >= MIN_HASH_PREFIX) return { name, selector: { kind: 'hash', prefix: sel.toLowerCase() } };
  throw invalidArgument(
    `Invalid dataset reference "${ref}": after "@" give a version number, "latest", or at least ${MIN_HASH_PREFIX} hex characters of the content hash`,
  );
}
