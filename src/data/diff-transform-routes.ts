/**
 * Diff and transform under /api/v1: `GET /datasets/diff?a=REF&b=REF[&key=c1,c2][&sample=N]`
 * compares two versions (schema, statistics, PSI drift, rows by key), and
 * `POST /datasets/transform` runs SQL that reads datasets with
 * `{{ ref('NAME@N') }}` and stores the result as a new version, recorded as
 * a run. Handlers are thin: the work is diffVersions and runTransform, the
 * same functions `flywheel data diff` and `data transform` call.
 *
 * The path `/datasets/diff` is static, so it wins over `/datasets/:name` for
 * GET: a dataset literally named "diff" is reached through its other routes
 * (`/datasets/diff/versions`, `/datasets/diff@latest/version`…).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppContext } from '../server/context.js';
import { withErrors } from '../tracking/v1-schemas.js';
import { diffVersions } from './diff.js';
import { DatasetDiffSchema, DiffQuery, TransformBody, TransformResultSchema } from './diff-transform-schemas.js';
import { runTransform } from './transform.js';

const tags = ['data'];

/** `id, day` → ['id', 'day']; an empty list when only commas and spaces were given (diff then says a key is needed). */
function keyColumns(text: string | undefined): string[] | undefined {
  return text === undefined
    ? undefined
    : text
        .split(',')
        .map((k) => k.trim())
        .filter((k) => k !== '');
}

export const diffTransformRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/datasets/diff',
    {
      schema: {
        tags,
        operationId: 'diffDatasetVersions',
        summary: 'Compare two dataset versions: schema, statistics, drift (PSI) and, with key columns, rows added, removed and changed',
        querystring: DiffQuery,
        response: withErrors({ 200: DatasetDiffSchema }),
      },
    },
    async (req) => diffVersions(ctx.data, ctx.engine, req.query.a, req.query.b, { key: keyColumns(req.query.key), sample: req.query.sample }),
  );

  app.post(
    '/datasets/transform',
    {
      schema: {
        tags,
        operationId: 'transformDataset',
        summary: "Run SQL over datasets ({{ ref('NAME@N') }}) and store the result as a new version",
        description:
          'Runs as a tracking run in the experiment "transforms" (params, the SQL as an artifact, lineage edges to the inputs and the output). A SQL error is a 400 naming the line; it fails the run and makes no version.',
        body: TransformBody,
        response: withErrors({ 201: TransformResultSchema }),
      },
    },
    async (req, reply) => {
      const { sql, into, message, name, params } = req.body;
      const result = await runTransform({ data: ctx.data, tracking: ctx.tracking, engine: ctx.engine, store: ctx.store }, { sql, name }, { into, message, params });
      return reply.code(201).send(result);
    },
  );
};
