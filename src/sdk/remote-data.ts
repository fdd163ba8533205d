/**
 * DataApi over HTTP: datasets on a Flywheel server through /api/v1/datasets,
 * for the SDK's remote mode. Adds upload one file as the request body
 * (streamed); exports and `parquetPath` download a version's bytes, the
 * latter once into a local cache keyed by content hash. Error bodies become
 * FlywheelErrors with the server's code and message.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FlywheelError, invalidArgument } from '../core/errors.js';
import type { DataAddOptions, DataApi } from '../data/api.js';
import type { AddResult, ExportResult, HeadResult, ListOptions } from '../data/service.js';
import { formatFromName, hasGlob } from '../data/sources.js';
import type { Dataset, DatasetProfile, DatasetVersion } from '../data/types.js';
import { toError } from './remote.js';

const seg = encodeURIComponent;

export class RemoteData implements DataApi {
  private readonly apiUrl: string;

  constructor(
    /** The server's base URL, for example http://127.0.0.1:5000. */
    readonly baseUrl: string,
    private readonly cacheDir: string = path.join(os.tmpdir(), 'flywheel-remote-cache'),
    private readonly fetchImpl: typeof fetch = globalThis.fetch,
  ) {
    const url = new URL(baseUrl);
    this.apiUrl = `${url.origin}${url.pathname.replace(/\/+$/, '')}/api/v1`;
  }

  private async send(method: string, p: string, query: Record<string, string | number | boolean | string[] | undefined> = {}, body?: Readable): Promise<Response> {
    const url = new URL(this.apiUrl + p);
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const x of v) url.searchParams.append(k, x);
      else url.searchParams.set(k, String(v));
    }
    const init: RequestInit & { duplex?: 'half' } = { method };
    if (body) {
      init.headers = { 'content-type': 'application/octet-stream' };
      init.body = Readable.toWeb(body) as unknown as ReadableStream<Uint8Array>;
      init.duplex = 'half';
    }
    let res: Response;
    try {
      res = await this.fetchImpl(url, init);
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new FlywheelError('FW_CONFIG', `Cannot reach the Flywheel server at ${this.baseUrl}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    if (!res.ok) throw await toError(res, method, url);
    return res;
  }

  private async json<T>(method: string, p: string, query?: Record<string, string | number | boolean | string[] | undefined>): Promise<T> {
    return (await (await this.send(method, p, query)).json()) as T;
  }

  private async download(ref: string, format: 'csv' | 'parquet', target: string): Promise<void> {
    const res = await this.send('GET', `/datasets/${seg(ref)}/download`, { format });
    await fsp.mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await pipeline(Readable.fromWeb(res.body as never), fs.createWriteStream(tmp));
      await fsp.rename(tmp, target);
    } finally {
      await fsp.rm(tmp, { force: true });
    }
  }

  async add(name: string, source: string, options: DataAddOptions = {}): Promise<AddResult> {
    return this.upload(name, source, options);
  }

  /**
   * Uploads SOURCE to `POST /datasets/:name/versions` + `route` (the data
   * slice's plain upload, or another upload route such as the quality
   * slice's `/validated`) with the add options and `extra` as the query.
   */
  protected async upload<T = AddResult>(name: string, source: string, options: DataAddOptions, route = '', extra: Record<string, string | boolean | undefined> = {}): Promise<T> {
    if (/^postgres(ql)?:\/\//.test(source) || hasGlob(source)) {
      throw invalidArgument('Against a server, `add` uploads one file; read globs and PostgreSQL queries in embedded mode');
    }
    if (options.columnTypes || options.runId || options.query) throw invalidArgument('columnTypes, runId and query are not supported against a server yet');
    const st = await fsp.stat(source).catch(() => null);
    if (!st?.isFile()) throw new FlywheelError('FW_NOT_FOUND', `Source file ${source} does not exist`, { file: source });
    const format = options.format ?? formatFromName(source) ?? undefined;
    const res = await this.send(
      'POST',
      `/datasets/${seg(name)}/versions${route}`,
      {
        ...extra,
        format,
        message: options.message,
        author: options.author,
        tag: Object.entries(options.tags ?? {}).map(([k, v]) => `${k}=${v}`),
        skipUnchanged: options.skipUnchanged,
        onBadRows: options.onBadRows,
        allowSchemaChange: options.allowSchemaChange,
      },
      fs.createReadStream(source),
    );
    return (await res.json()) as T;
  }

  async ls(options: ListOptions = {}): Promise<Dataset[]> {
    return (await this.json<{ items: Dataset[] }>('GET', '/datasets', { includeDeleted: options.includeDeleted })).items;
  }

  get(name: string): Promise<Dataset> {
    return this.json('GET', `/datasets/${seg(name)}`);
  }

  async log(name: string): Promise<DatasetVersion[]> {
    return (await this.json<{ items: DatasetVersion[] }>('GET', `/datasets/${seg(name)}/versions`)).items;
  }

  resolve(ref: string): Promise<DatasetVersion> {
    return this.json('GET', `/datasets/${seg(ref)}/version`);
  }

  async show(ref: string): Promise<{ version: DatasetVersion; profile: DatasetProfile }> {
    const version = await this.resolve(ref);
    return { version, profile: await this.profile(`${version.dataset}@${version.version}`) };
  }

  profile(ref: string): Promise<DatasetProfile> {
    return this.json('GET', `/datasets/${seg(ref)}/profile`);
  }

  head(ref: string, n = 10): Promise<HeadResult> {
    return this.json('GET', `/datasets/${seg(ref)}/head`, { n });
  }

  async export(ref: string, out: string, options: { format?: 'csv' | 'parquet' } = {}): Promise<ExportResult> {
    const format = options.format ?? (/\.parquet$|\.pq$/i.test(out) ? 'parquet' : /\.csv$/i.test(out) ? 'csv' : null);
    if (format !== 'csv' && format !== 'parquet') throw invalidArgument(`Cannot tell the export format of "${out}": use a .csv or .parquet file name, or give the format`);
    const version = await this.resolve(ref);
    const target = path.resolve(out);
    await this.download(`${version.dataset}@${version.version}`, format, target);
    return { path: target, format, rows: version.rowCount };
  }

  async rm(name: string): Promise<void> {
    await this.send('DELETE', `/datasets/${seg(name)}`);
  }

  async parquetPath(version: DatasetVersion): Promise<string> {
    const target = path.join(this.cacheDir, `${version.contentHash}.parquet`);
    if (!fs.existsSync(target)) await this.download(`${version.dataset}@${version.version}`, 'parquet', target);
    return target;
  }
}
