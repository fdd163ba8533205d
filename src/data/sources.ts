/**
 * What a SOURCE argument names: one file, a glob of files, or a PostgreSQL
 * query. Files are resolved here, without DuckDB, into absolute paths and a
 * fingerprint (path, size, mtime of each) so an unchanged source can be
 * recognised from a few `stat` calls. Missing files and globs that match
 * nothing are refused here with the path in the message.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { FlywheelError, invalidArgument } from '../core/errors.js';
import { isPostgresUrl } from '../core/config.js';

export type FileFormat = 'csv' | 'tsv' | 'parquet' | 'json' | 'ndjson';

export type SourceSpec =
  | { kind: 'files'; /** As the user gave it. */ pattern: string; files: SourceFile[]; format: FileFormat }
  | { kind: 'postgres'; url: string; query: string };

export interface SourceFile {
  /** Absolute path. */
  path: string;
  size: number;
  mtimeMs: number;
}

export const FORMATS: readonly FileFormat[] = ['csv', 'tsv', 'parquet', 'json', 'ndjson'];

/** Files up to this size are read to tell whether they hold only blank lines. */
const BLANK_CHECK_BYTES = 4096;

const COMPRESSION_SUFFIX = /\.(gz|zst)$/i;

/** The format a file name implies (`data.csv`, `part-0.parquet`, `events.jsonl.gz`), or null. */
export function formatFromName(file: string): FileFormat | null {
  const base = path.basename(file).replace(COMPRESSION_SUFFIX, '').toLowerCase();
  const ext = base.slice(base.lastIndexOf('.') + 1);
  switch (ext) {
    case 'csv':
      return 'csv';
    case 'tsv':
    case 'tab':
      return 'tsv';
    case 'parquet':
    case 'pq':
      return 'parquet';
    case 'json':
      return 'json';
    case 'ndjson':
    case 'jsonl':
      return 'ndjson';
    default:
      return null;
  }
}

export function hasGlob(pattern: string): boolean {
  return /[*?[{]/.test(pattern);
}

/** Translates a glob (`*`, `**`, `?`, `[abc]`, `{a,b}`) over "/"-separated paths into an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let inGroup = 0;
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        // "**/" matches zero or more directories; a trailing "**" anything.
        const slash = glob[i + 2] === '/';
        re += slash ? '(?:[^/]*/)*' : '.*';
        i += slash ? 2 : 1;
      } else {
        re += '[^/]*';
      }
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ch === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) {
        re += '\\[';
      } else {
        let cls = glob.slice(i + 1, end);
        if (cls.startsWith('!')) cls = '^' + cls.slice(1);
        re += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (ch === '{') {
      inGroup++;
      re += '(?:';
    } else if (ch === '}' && inGroup > 0) {
      inGroup--;
      re += ')';
    } else if (ch === ',' && inGroup > 0) {
      re += '|';
    } else {
      re += ch.replace(/[.+^$()|\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

/** Files matching an absolute glob, sorted; directories are walked only as deep as the pattern can reach. */
async function expandGlob(absPattern: string): Promise<string[]> {
  const segments = absPattern.split('/');
  const firstGlob = segments.findIndex(hasGlob);
  const base = segments.slice(0, firstGlob).join('/') || '/';
  const rest = segments.slice(firstGlob);
  const unlimited = rest.some((s) => s.includes('**'));
  const maxDepth = unlimited ? Infinity : rest.length;
  const re = globToRegExp(absPattern);
  const out: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (depth < maxDepth) await walk(full, depth + 1);
      } else if ((e.isFile() || e.isSymbolicLink()) && re.test(full)) {
        out.push(full);
      }
    }
  };
  await walk(base, 1);
  return out.sort();
}

async function statFile(file: string, shown: string): Promise<SourceFile> {
  let st: fs.Stats;
  try {
    st = await fsp.stat(file);
  } catch {
    throw new FlywheelError('FW_NOT_FOUND', `Source file ${shown} does not exist`, { file: shown });
  }
  if (!st.isFile()) throw invalidArgument(`Source ${shown} is not a file (give a file or a glob such as ${path.join(shown, '*.csv')})`, { file: shown });
  return { path: file, size: st.size, mtimeMs: st.mtimeMs };
}

export interface ResolveSourceOptions {
  query?: string;
  format?: FileFormat;
  /** Base for relative paths (default the working directory). */
  cwd?: string;
}

export async function resolveSource(source: string, options: ResolveSourceOptions = {}): Promise<SourceSpec> {
  if (typeof source !== 'string' || source === '') throw invalidArgument('A source (file, glob or postgres:// URL) is required');
  if (isPostgresUrl(source)) {
    if (!options.query || options.query.trim() === '') throw invalidArgument('A PostgreSQL source needs a query (--query "select …")');
    return { kind: 'postgres', url: source, query: options.query };
  }
  if (options.query !== undefined) throw invalidArgument('A query is only used with a postgres:// source');
  if (options.format !== undefined && !FORMATS.includes(options.format)) {
    throw invalidArgument(`Unknown format "${String(options.format)}"; expected one of ${FORMATS.join(', ')}`);
  }
  const abs = path.resolve(options.cwd ?? process.cwd(), source.startsWith('file://') ? new URL(source).pathname : source);
  let files: SourceFile[];
  if (hasGlob(source)) {
    const matched = await expandGlob(abs.split(path.sep).join('/'));
    if (matched.length === 0) throw new FlywheelError('FW_NOT_FOUND', `No files match "${source}"`, { file: source });
    files = await Promise.all(matched.map((f) => statFile(f, f)));
  } else {
    files = [await statFile(abs, source)];
  }
  const format = options.format ?? formatFromName(files[0].path);
  if (!format) {
    throw invalidArgument(`Cannot tell the format of ${files[0].path} from its extension; give one of ${FORMATS.join(', ')} (--format)`, { file: files[0].path });
  }
  if (!options.format) {
    const other = files.find((f) => formatFromName(f.path) !== format);
    if (other) throw invalidArgument(`"${source}" mixes formats: ${files[0].path} is ${format} but ${other.path} is not`, { file: other.path });
  }
  for (const f of files) {
    if (f.size === 0 || (f.size <= BLANK_CHECK_BYTES && (await fsp.readFile(f.path, 'latin1')).trim() === '')) {
      throw invalidArgument(`Source file ${f.path} is empty`, { file: f.path });
    }
  }
  return { kind: 'files', pattern: source, files, format };
}

/**
 * What identifies an unchanged file source: every file's absolute path, size
 * and mtime, plus the options that change how it is read.
 */
export function fingerprintOf(spec: SourceSpec, readOptions: Record<string, unknown>): string | null {
  if (spec.kind !== 'files') return null;
  return JSON.stringify({ format: spec.format, files: spec.files.map((f) => [f.path, f.size, f.mtimeMs]), options: readOptions });
}
