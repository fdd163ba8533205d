/**
 * TrackingApi over HTTP: the same interface as the in-process TrackingService,
 * spoken against a Flywheel server's /api/v1 with the global fetch (as MLflow's
 * RestStore stands in for its SQL store). Error bodies `{error: {code,
 * message}}` become FlywheelErrors with the same code and message, so calling
 * code cannot tell which side of the wire it is on. Artifacts stream both ways.
 */
import { Readable } from 'node:stream';
import { ERROR_CODES, FlywheelError, type ErrorCode } from '../core/errors.js';
import { ensureExperiment } from '../tracking/ensure-experiment.js';
import type { TrackingApi } from '../tracking/api.js';
import type {
  CreateExperimentInput,
  CreateRunInput,
  Experiment,
  LogBatchInput,
  Metric,
  Page,
  Run,
  RunInfo,
  RunStatus,
  SearchExperimentsInput,
  SearchRunsInput,
  UpdateRunInput,
} from '../tracking/types.js';
import { fromWireMetric, fromWireRun, toWireMetric } from '../tracking/v1-codec.js';
import type { WireMetric, WireRun } from '../tracking/v1-schemas.js';

type Query = Record<string, string | number | readonly string[] | undefined>;

interface RequestOptions {
  query?: Query;
  /** A JSON value, or raw bytes/stream for artifact uploads. */
  json?: unknown;
  raw?: Uint8Array | NodeJS.ReadableStream;
}

const seg = encodeURIComponent;

export class RemoteTracking implements TrackingApi {
  /** The server's /api/v1 root, without a trailing slash. */
  readonly apiUrl: string;

  constructor(
    /** The server's base URL, for example http://127.0.0.1:5000. */
    readonly baseUrl: string,
    private readonly fetchImpl: typeof fetch = globalThis.fetch,
  ) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new FlywheelError('FW_CONFIG', `Tracking URI "${baseUrl}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new FlywheelError('FW_CONFIG', `Tracking URI "${baseUrl}" must be http:// or https://`);
    }
    this.apiUrl = `${url.origin}${url.pathname.replace(/\/+$/, '')}/api/v1`;
  }

  // --------------------------------------------------------------- transport

  private async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const url = new URL(this.apiUrl + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) url.searchParams.append(key, v);
      else url.searchParams.set(key, String(value));
    }
    const init: RequestInit & { duplex?: 'half' } = { method, headers: {} };
    if (options.json !== undefined) {
      init.headers = { 'content-type': 'application/json' };
      init.body = JSON.stringify(options.json);
    } else if (options.raw !== undefined) {
      init.headers = { 'content-type': 'application/octet-stream' };
      if (options.raw instanceof Uint8Array) {
        init.body = options.raw;
      } else {
        // A stream body needs half-duplex mode in Node's fetch.
        init.body = Readable.toWeb(Readable.from(options.raw as AsyncIterable<Uint8Array>)) as unknown as ReadableStream<Uint8Array>;
        init.duplex = 'half';
      }
    }
    let res: Response;
    try {
      res = await this.fetchImpl(url, init);
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new FlywheelError('FW_CONFIG', `Cannot reach the tracking server at ${this.baseUrl}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    if (!res.ok) throw await toError(res, method, url);
    return res;
  }

  private async call<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
    const res = await this.send(method, path, options);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  // ------------------------------------------------------------- experiments

  createExperiment(input: CreateExperimentInput): Promise<Experiment> {
    return this.call('POST', '/experiments', { json: input });
  }

  getExperiment(experimentId: string): Promise<Experiment> {
    return this.call('GET', `/experiments/${seg(experimentId)}`);
  }

  getExperimentByName(name: string): Promise<Experiment> {
    return this.call('GET', `/experiments/by-name/${seg(name)}`);
  }

  ensureExperiment(name: string): Promise<Experiment> {
    return ensureExperiment(this, name);
  }


  searchExperiments(input: SearchExperimentsInput = {}): Promise<Page<Experiment>> {
    const { filter, orderBy, maxResults, pageToken, viewType } = input;
    return this.call('GET', '/experiments', { query: { filter, orderBy, maxResults, pageToken, viewType } });
  }

  renameExperiment(experimentId: string, newName: string): Promise<Experiment> {
    return this.call('PATCH', `/experiments/${seg(experimentId)}`, { json: { name: newName } });
  }

  async deleteExperiment(experimentId: string): Promise<void> {
    await this.call('DELETE', `/experiments/${seg(experimentId)}`);
  }

  async restoreExperiment(experimentId: string): Promise<void> {
    await this.call('POST', `/experiments/${seg(experimentId)}/restore`);
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    await this.call('PATCH', `/experiments/${seg(experimentId)}`, { json: { tags: { [key]: value } } });
  }

  // -------------------------------------------------------------------- runs

  async createRun(input: CreateRunInput): Promise<Run> {
    return fromWireRun(await this.call<WireRun>('POST', '/runs', { json: input }));
  }

  async getRun(runId: string): Promise<Run> {
    return fromWireRun(await this.call<WireRun>('GET', `/runs/${seg(runId)}`));
  }

  async updateRun(runId: string, input: UpdateRunInput): Promise<RunInfo> {
    const { status, endTime, runName } = input;
    return (await this.call<WireRun>('PATCH', `/runs/${seg(runId)}`, { json: { status, endTime, runName } })).info;
  }

  endRun(runId: string, status: RunStatus = 'FINISHED', endTime?: number): Promise<RunInfo> {
    return this.updateRun(runId, { status, endTime });
  }

  async deleteRun(runId: string): Promise<void> {
    await this.call('DELETE', `/runs/${seg(runId)}`);
  }

  async restoreRun(runId: string): Promise<void> {
    await this.call('POST', `/runs/${seg(runId)}/restore`);
  }

  async logBatch(runId: string, batch: LogBatchInput): Promise<void> {
    await this.call('POST', `/runs/${seg(runId)}/batch`, {
      json: { metrics: batch.metrics?.map(toWireMetric), params: batch.params, tags: batch.tags },
    });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    await this.call('DELETE', `/runs/${seg(runId)}/tags/${seg(key)}`);
  }

  async getMetricHistory(runId: string, key: string, options: { maxResults?: number; pageToken?: string } = {}): Promise<Page<Metric>> {
    const page = await this.call<Page<WireMetric>>('GET', `/runs/${seg(runId)}/metrics/${seg(key)}`, {
      query: { maxResults: options.maxResults, pageToken: options.pageToken },
    });
    return { items: page.items.map(fromWireMetric), nextPageToken: page.nextPageToken };
  }

  async searchRuns(input: SearchRunsInput): Promise<Page<Run>> {
    const { experimentIds, filter, orderBy, maxResults, pageToken, viewType } = input;
    const page = await this.call<Page<WireRun>>('POST', '/runs/search', { json: { experimentIds, filter, orderBy, maxResults, pageToken, viewType } });
    return { items: page.items.map(fromWireRun), nextPageToken: page.nextPageToken };
  }

  // --------------------------------------------------------------- artifacts

  async putRunArtifact(runId: string, artifactPath: string, body: Uint8Array | NodeJS.ReadableStream): Promise<void> {
    await this.call('PUT', `/runs/${seg(runId)}/artifacts/${artifactUrlPath(artifactPath)}`, { raw: body });
  }

  async getRunArtifact(runId: string, artifactPath: string): Promise<NodeJS.ReadableStream> {
    const res = await this.send('GET', `/runs/${seg(runId)}/artifacts/${artifactUrlPath(artifactPath)}`);
    if (!res.body) return Readable.from([]);
    return Readable.fromWeb(res.body as Parameters<typeof Readable.fromWeb>[0]);
  }

  async listRunArtifacts(runId: string, artifactPath = ''): Promise<{ path: string; isDir: boolean; size: number }[]> {
    const res = await this.call<{ items: { path: string; isDir: boolean; size: number }[] }>('GET', `/runs/${seg(runId)}/artifacts`, {
      query: { path: artifactPath || undefined },
    });
    return res.items;
  }
}

/** Each segment encoded, slashes kept: the server's wildcard takes the rest of the URL. */
function artifactUrlPath(artifactPath: string): string {
  return artifactPath.split('/').map(seg).join('/');
}

export async function toError(res: Response, method: string, url: URL): Promise<FlywheelError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; details?: Record<string, unknown> } };
    const code = body.error?.code;
    if (code && Object.hasOwn(ERROR_CODES, code) && typeof body.error?.message === 'string') {
      return new FlywheelError(code as ErrorCode, body.error.message, body.error.details);
    }
  } catch {
    // not one of our error bodies; described below
  }
  const excerpt = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return new FlywheelError('FW_INTERNAL', `${method} ${url.pathname} answered HTTP ${res.status}${excerpt ? `: ${excerpt}` : ''}`);
}
