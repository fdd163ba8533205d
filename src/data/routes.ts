/**
 * The data API under /api/v1: datasets, their versions, profiles, a peek at
 * the first rows, downloads (Parquet as stored, or CSV), uploads of a file as
 * a new version (streamed to a temp file, then ingested like `data add`), and
 * soft deletion. Handlers are thin; rules live in DataService.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Type, TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { FlywheelError, invalidArgument } from '../core/errors.js';
import type { AppContext } from '../server/context.js';
import { Binary, NoContent, withErrors } from '../tracking/v1-schemas.js';
import {
  AddResultSchema,
  DatasetProfileSchema,
  DatasetSchema,
  DatasetVersionSchema,
  DownloadQuery,
  HeadQuery,
  HeadSchema,
  ListQuery,
  NameParams,
  RefParams,
  UploadQuery,
} from './schemas.js';

const tags = ['data'];
/** How messages about an uploaded file name it. */
const UPLOAD_LABEL = 'uploaded file';

/** `tag=key=value` query values as a map (also used by the quality slice's validated upload). */
export function parseTags(pairs: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw invalidArgument(`Invalid tag "${p}": expected key=value`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

/**
 * Streams an upload's body (the raw request stream the upload scope's
 * catch-all parser hands over) to `file`; an empty request makes an empty
 * file. On failure the rest of the request is drained so the error can be
 * answered.
 */
export async function saveUploadBody(req: FastifyRequest, file: string): Promise<void> {
  const body = req.body as NodeJS.ReadableStream | undefined;
  try {
    if (body) await pipeline(body, fs.createWriteStream(file));
    else await fsp.writeFile(file, '');
  } catch (err) {
    req.raw.resume();
    throw err;
  }
}

/** The same FlywheelError naming "uploaded file" where it named our temp file; other errors as they are. */
export function nameUploadInError(err: unknown, file: string): unknown {
  if (!(err instanceof FlywheelError)) return err;
  const details = err.details?.file === file ? { ...err.details, file: UPLOAD_LABEL } : err.details;
  return new FlywheelError(err.code, err.message.replaceAll(file, UPLOAD_LABEL), details);
}

export const dataRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const data = ctx.data;

  app.get(
    '/datasets',
    { schema: { tags, operationId: 'listDatasets', summary: 'List datasets', querystring: ListQuery, response: withErrors({ 200: Type.Object({ items: Type.Array(DatasetSchema) }) }) } },
    async (req) => ({ items: await data.ls({ includeDeleted: req.query.includeDeleted }) }),
  );

  app.get(
    '/datasets/:name',
    { schema: { tags, operationId: 'getDataset', summary: 'Get a dataset', params: NameParams, response: withErrors({ 200: DatasetSchema }) } },
    async (req) => data.get(req.params.name),
  );

  app.get(
    '/datasets/:name/versions',
    {
      schema: {
        tags,
        operationId: 'listDatasetVersions',
        summary: 'Versions of a dataset, newest first',
        params: NameParams,
        response: withErrors({ 200: Type.Object({ items: Type.Array(DatasetVersionSchema) }) }),
      },
    },
    async (req) => ({ items: await data.log(req.params.name) }),
  );

  app.get(
    '/datasets/:ref/version',
    { schema: { tags, operationId: 'resolveDatasetVersion', summary: 'Resolve a ref (NAME, NAME@3, NAME@latest, NAME@<hash prefix>) to a version', params: RefParams, response: withErrors({ 200: DatasetVersionSchema }) } },
    async (req) => data.resolve(req.params.ref),
  );

  app.get(
    '/datasets/:ref/profile',
    { schema: { tags, operationId: 'getDatasetProfile', summary: 'The column profile of a version', params: RefParams, response: withErrors({ 200: DatasetProfileSchema }) } },
    async (req) => data.profile(req.params.ref),
  );

  app.get(
    '/datasets/:ref/head',
    { schema: { tags, operationId: 'headDataset', summary: 'The first rows of a version', params: RefParams, querystring: HeadQuery, response: withErrors({ 200: HeadSchema }) } },
    async (req) => data.head(req.params.ref, req.query.n ?? 10),
  );

  app.get(
    '/datasets/:ref/download',
    {
      schema: {
        tags,
        operationId: 'downloadDataset',
        summary: 'Download a version as Parquet (the stored bytes) or CSV',
        params: RefParams,
        querystring: DownloadQuery,
        response: withErrors({
          200: {
            description: 'The data.',
            content: { 'application/vnd.apache.parquet': { schema: Binary }, 'text/csv': { schema: Binary } },
          },
        }),
      },
    },
    async (req, reply) => {
      const version = await data.resolve(req.params.ref);
      const format = req.query.format ?? 'parquet';
      const fileName = `${version.dataset}-v${version.version}.${format}`;
      const r = (reply as FastifyReply).header('content-disposition', `attachment; filename="${fileName}"`).header('x-flywheel-version-id', version.id);
      if (format === 'parquet') {
        return r.type('application/vnd.apache.parquet').send(await ctx.artifacts.get(version.storageKey));
      }
      const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'fw-download-'));
      const file = path.join(dir, fileName);
      try {
        await data.export(`${version.dataset}@${version.version}`, file, { format: 'csv' });
      } catch (err) {
        await fsp.rm(dir, { recursive: true, force: true });
        throw err;
      }
      const stream = fs.createReadStream(file);
      stream.on('close', () => void fsp.rm(dir, { recursive: true, force: true }));
      return r.type('text/csv; charset=utf-8').send(stream);
    },
  );

  app.delete(
    '/datasets/:name',
    { schema: { tags, operationId: 'deleteDataset', summary: 'Delete a dataset (soft: its versions are kept and still resolve)', params: NameParams, response: withErrors({ 204: NoContent }) } },
    async (req, reply) => {
      await data.rm(req.params.name);
      return reply.code(204).send(null);
    },
  );

  // Uploads get their own scope: every content type arrives as the raw request stream, with no body limit.
  await app.register(async (uploads) => {
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    uploads.withTypeProvider<TypeBoxTypeProvider>().post(
      '/datasets/:name/versions',
      {
        schema: {
          tags,
          operationId: 'addDatasetVersion',
          summary: 'Upload a file as a new version (the body is the file, streamed)',
          params: NameParams,
          querystring: UploadQuery,
          body: { content: { 'application/octet-stream': { schema: Binary } } },
          response: withErrors({ 201: AddResultSchema, 200: AddResultSchema }),
        },
        // The body is a stream, not a value to validate; params and query are checked (and coerced) by TypeBox.
        validatorCompiler: (route) => (route.httpPart === 'body' ? () => true : TypeBoxValidatorCompiler(route)),
      },
      async (req, reply) => {
        const q = req.query;
        const format = q.format ?? 'csv';
        const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'fw-upload-'));
        try {
          const file = path.join(dir, `upload.${format}`);
          await saveUploadBody(req, file);
          const result = await data
            .add(req.params.name, file, {
              format,
              message: q.message,
              author: q.author,
              tags: parseTags(q.tag),
              skipUnchanged: q.skipUnchanged,
              onBadRows: q.onBadRows,
              allowSchemaChange: q.allowSchemaChange,
            })
            .catch((err: unknown) => {
              // Messages name the uploaded body, not our temp file.
              throw nameUploadInError(err, file);
            });
          return reply.code(result.created ? 201 : 200).send(result);
        } finally {
          await fsp.rm(dir, { recursive: true, force: true });
        }
      },
    );
  });
};
