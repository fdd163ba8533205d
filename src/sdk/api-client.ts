/**
 * A small JSON client for Flywheel's /api/v1, for the SDK's remote-mode calls
 * that send or receive JSON (diff, transform, validate, lineage, suites):
 * builds the URL with its query, sends the body as JSON, and turns error
 * bodies back into FlywheelErrors with the server's code and message. An unreachable
 * server is FW_CONFIG, as in the other remote clients.
 */
import { FlywheelError } from '../core/errors.js';
import { toError } from './remote.js';

export type Query = Record<string, string | number | boolean | undefined>;

export class ApiClient {
  private readonly apiUrl: string;

  constructor(
    /** The server's base URL, for example http://127.0.0.1:5000. */
    readonly baseUrl: string,
    private readonly fetchImpl: typeof fetch = globalThis.fetch,
  ) {
    const url = new URL(baseUrl);
    this.apiUrl = `${url.origin}${url.pathname.replace(/\/+$/, '')}/api/v1`;
  }

  /** `method path` with `query`; `body` is sent as JSON. Resolves to the parsed response body (undefined for 204 No Content). */
  async json<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
    const url = new URL(this.apiUrl + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const init: RequestInit = { method };
    if (options.body !== undefined) {
      init.headers = { 'content-type': 'application/json' };
      init.body = JSON.stringify(options.body);
    }
    let res: Response;
    try {
      res = await this.fetchImpl(url, init);
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new FlywheelError('FW_CONFIG', `Cannot reach the Flywheel server at ${this.baseUrl}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    if (!res.ok) throw await toError(res, method, url);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }
}
