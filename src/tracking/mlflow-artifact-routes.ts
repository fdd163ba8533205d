/**
 * MLflow's artifact proxy (mlflow/protos/mlflow_artifacts.proto, `mlflow server
 * --serve-artifacts`) under /api/2.0/mlflow-artifacts/artifacts: PUT uploads a file
 * by streaming the request body into the artifact store, GET /<path> streams one
 * back, GET ?path=<dir> lists a directory, DELETE removes a file or directory.
 * Paths are below the proxy root (`mlflow-artifacts:/<exp>/<run>/artifacts/...` is
 * `<exp>/<run>/artifacts/...` here); anything absolute or with `..` (also
 * percent-encoded) is refused.
 */
import path from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { FlywheelError } from '../core/errors.js';
import type { AppContext } from '../server/context.js';
import { fileInfoToJson, MlflowArgs, page } from './mlflow-shapes.js';
import { proxyKey } from './run-artifacts.js';

export const MLFLOW_ARTIFACT_PREFIXES = ['/api/2.0/mlflow-artifacts/artifacts', '/ajax-api/2.0/mlflow-artifacts/artifacts'] as const;

/** As MLflow's `_guess_mime_type`: a few names of its own, then common extensions. */
const MIME_BY_EXTENSION: Record<string, string> = {
  MLmodel: 'text/plain',
  MLproject: 'text/plain',
  txt: 'text/plain',
  log: 'text/plain',
  yaml: 'text/plain',
  yml: 'text/plain',
  md: 'text/markdown',
  json: 'application/json',
  jsonl: 'application/jsonl',
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  html: 'text/html',
  htm: 'text/html',
  xml: 'application/xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  bmp: 'image/bmp',
  webp: 'image/webp',
  pdf: 'application/pdf',
  parquet: 'application/vnd.apache.parquet',
  onnx: 'application/octet-stream',
  zip: 'application/zip',
  gz: 'application/gzip',
  py: 'text/x-python',
};

export function mimeTypeFor(file: string): string {
  const base = path.posix.basename(file);
  const ext = path.posix.extname(base).slice(1) || base;
  return MIME_BY_EXTENSION[ext] ?? MIME_BY_EXTENSION[ext.toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The proxy path of a request, checked: the router has decoded the URL once; a path
 * that still holds percent-escapes is decoded until stable and refused if that form
 * escapes the root, as MLflow's validate_path_is_safe does.
 */
export function checkedProxyPath(raw: string): string {
  let decoded = raw;
  for (let i = 0; i < 5; i++) {
    let next: string;
    try {
      next = decodeURIComponent(decoded);
    } catch {
      break;
    }
    if (next === decoded) break;
    decoded = next;
  }
  proxyKey(decoded); // throws FW_UNSAFE_PATH on traversal, absolute paths or NUL
  return raw;
}

function wildcard(request: FastifyRequest): string {
  return (request.params as { '*'?: string })['*'] ?? '';
}

async function list(ctx: AppContext, dir: string): Promise<Record<string, unknown>> {
  const key = proxyKey(checkedProxyPath(dir));
  const entries = await ctx.artifacts.list(key);
  // Paths relative to the listed directory, as MLflow's proxy answers (its client joins them back).
  const files = entries.map((e) => fileInfoToJson({ path: path.posix.basename(e.path), isDir: e.isDir, size: e.size }));
  return page('files', files, null);
}

export const mlflowArtifactRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  // Uploads are any bytes with any Content-Type (a .json artifact arrives as application/json):
  // in this plugin's scope no parser reads the body; PUT streams request.raw itself, unbounded.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  for (const prefix of MLFLOW_ARTIFACT_PREFIXES) {
    app.get(prefix, { schema: { hide: true } }, async (request) => {
      const args = MlflowArgs.from(request);
      return list(ctx, args.string('path') ?? '');
    });

    app.get(`${prefix}/*`, { schema: { hide: true } }, async (request, reply: FastifyReply) => {
      const rel = wildcard(request);
      if (rel === '' || rel === '/') return list(ctx, MlflowArgs.from(request).string('path') ?? '');
      const key = proxyKey(checkedProxyPath(rel));
      const stat = await ctx.artifacts.stat(key);
      if (!stat || stat.isDir) throw new FlywheelError('FW_NOT_FOUND', `Artifact '${rel}' does not exist`);
      const stream = await ctx.artifacts.get(key);
      const mime = mimeTypeFor(key);
      // Always an attachment, so a browser never renders an uploaded file on our origin.
      return reply
        .type(mime)
        .header('content-length', stat.size)
        .header('content-disposition', `attachment; filename=${JSON.stringify(path.posix.basename(key))}`)
        .header('x-content-type-options', 'nosniff')
        .send(stream);
    });

    app.put(`${prefix}/*`, { schema: { hide: true } }, async (request) => {
      const rel = wildcard(request);
      if (rel === '') throw new FlywheelError('FW_UNSAFE_PATH', 'artifact path is empty');
      const key = proxyKey(checkedProxyPath(rel));
      await ctx.artifacts.put(key, request.raw);
      return {};
    });

    app.delete(`${prefix}/*`, { schema: { hide: true } }, async (request) => {
      const rel = wildcard(request);
      if (rel === '') throw new FlywheelError('FW_UNSAFE_PATH', 'artifact path is empty');
      // Deleting what is not there succeeds, as MLflow's artifact repositories do.
      await ctx.artifacts.delete(proxyKey(checkedProxyPath(rel)));
      return {};
    });
  }
};
