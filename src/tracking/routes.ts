/**
 * Flywheel's own tracking API, mounted at /api/v1: experiments, runs, logging,
 * metric history, search, run artifacts and the event log, as resources in the
 * camelCase domain shapes. Handlers are thin: rules live in TrackingService,
 * wire shapes in v1-schemas.ts (which also feed the OpenAPI document), and
 * errors reach the client through the global error handler as
 * `{error: {code, message}}`. Artifact uploads are streamed to the store
 * without buffering or a body limit.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppContext } from '../server/context.js';
import { listEvents } from '../events/service.js';
import {
  ArtifactEntrySchema,
  ArtifactParams,
  Binary,
  CreateExperimentBody,
  CreateRunBody,
  EventSchema,
  ExperimentSchema,
  ExperimentIdParams,
  ExperimentNameParams,
  ListArtifactsQuery,
  ListEventsQuery,
  LogBatchBody,
  MetricSchema,
  MetricHistoryQuery,
  MetricKeyParams,
  NoContent,
  Page,
  RunSchema,
  RunIdParams,
  RunTagParams,
  SearchExperimentsQuery,
  SearchRunsBody,
  UpdateExperimentBody,
  UpdateRunBody,
  withErrors,
} from './v1-schemas.js';
import { decodeMetricValue, toWireMetric, toWireRun } from './v1-codec.js';
import { LIMITS, validateKey, validateTagValue } from './limits.js';

const tags = ['tracking'];

export const trackingRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tracking = ctx.tracking;

  // -------------------------------------------------------------- experiments

  app.get(
    '/experiments',
    {
      schema: {
        tags,
        operationId: 'searchExperiments',
        summary: 'Search experiments',
        querystring: SearchExperimentsQuery,
        response: withErrors({ 200: Page(ExperimentSchema, 'experiments') }),
      },
    },
    async (req) => tracking.searchExperiments(req.query),
  );

  app.post(
    '/experiments',
    {
      schema: {
        tags,
        operationId: 'createExperiment',
        summary: 'Create an experiment',
        body: CreateExperimentBody,
        response: withErrors({ 201: ExperimentSchema }),
      },
    },
    async (req, reply) => reply.code(201).send(await tracking.createExperiment(req.body)),
  );

  app.get(
    '/experiments/by-name/:name',
    {
      schema: {
        tags,
        operationId: 'getExperimentByName',
        summary: 'Get an experiment by name',
        params: ExperimentNameParams,
        response: withErrors({ 200: ExperimentSchema }),
      },
    },
    async (req) => tracking.getExperimentByName(req.params.name),
  );

  app.get(
    '/experiments/:id',
    {
      schema: {
        tags,
        operationId: 'getExperiment',
        summary: 'Get an experiment',
        params: ExperimentIdParams,
        response: withErrors({ 200: ExperimentSchema }),
      },
    },
    async (req) => tracking.getExperiment(req.params.id),
  );

  app.patch(
    '/experiments/:id',
    {
      schema: {
        tags,
        operationId: 'updateExperiment',
        summary: 'Rename an experiment and/or set its tags',
        params: ExperimentIdParams,
        body: UpdateExperimentBody,
        response: withErrors({ 200: ExperimentSchema }),
      },
    },
    async (req) => {
      const { id } = req.params;
      // Tags are checked before the rename so a bad tag leaves the experiment as it was.
      for (const [key, value] of Object.entries(req.body.tags ?? {})) validateTagValue(validateKey('tag', key), value, LIMITS.maxExperimentTagValueLength);
      if (req.body.name !== undefined) await tracking.renameExperiment(id, req.body.name);
      for (const [key, value] of Object.entries(req.body.tags ?? {})) await tracking.setExperimentTag(id, key, value);
      return tracking.getExperiment(id);
    },
  );

  app.delete(
    '/experiments/:id',
    {
      schema: {
        tags,
        operationId: 'deleteExperiment',
        summary: 'Delete an experiment (soft: it and its runs can be restored)',
        params: ExperimentIdParams,
        response: withErrors({ 204: NoContent }),
      },
    },
    async (req, reply) => {
      await tracking.deleteExperiment(req.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/experiments/:id/restore',
    {
      schema: {
        tags,
        operationId: 'restoreExperiment',
        summary: 'Restore a deleted experiment and the runs deleted with it',
        params: ExperimentIdParams,
        response: withErrors({ 200: ExperimentSchema }),
      },
    },
    async (req) => {
      await tracking.restoreExperiment(req.params.id);
      return tracking.getExperiment(req.params.id);
    },
  );

  // ---------------------------------------------------------------------- runs

  app.post(
    '/runs',
    {
      schema: {
        tags,
        operationId: 'createRun',
        summary: 'Create a run (status RUNNING)',
        body: CreateRunBody,
        response: withErrors({ 201: RunSchema }),
      },
    },
    async (req, reply) => reply.code(201).send(toWireRun(await tracking.createRun(req.body))),
  );

  app.post(
    '/runs/search',
    {
      schema: {
        tags,
        operationId: 'searchRuns',
        summary: 'Search runs across experiments',
        body: SearchRunsBody,
        response: withErrors({ 200: Page(RunSchema, 'runs') }),
      },
    },
    async (req) => {
      const page = await tracking.searchRuns(req.body);
      return { items: page.items.map(toWireRun), nextPageToken: page.nextPageToken };
    },
  );

  app.get(
    '/runs/:id',
    {
      schema: {
        tags,
        operationId: 'getRun',
        summary: 'Get a run with its params, tags and latest metrics',
        params: RunIdParams,
        response: withErrors({ 200: RunSchema }),
      },
    },
    async (req) => toWireRun(await tracking.getRun(req.params.id)),
  );

  app.patch(
    '/runs/:id',
    {
      schema: {
        tags,
        operationId: 'updateRun',
        summary: 'Set a run’s status, end time or name',
        params: RunIdParams,
        body: UpdateRunBody,
        response: withErrors({ 200: RunSchema }),
      },
    },
    async (req) => {
      await tracking.updateRun(req.params.id, req.body);
      return toWireRun(await tracking.getRun(req.params.id));
    },
  );

  app.delete(
    '/runs/:id',
    {
      schema: {
        tags,
        operationId: 'deleteRun',
        summary: 'Delete a run (soft: it can be restored)',
        params: RunIdParams,
        response: withErrors({ 204: NoContent }),
      },
    },
    async (req, reply) => {
      await tracking.deleteRun(req.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/runs/:id/restore',
    {
      schema: {
        tags,
        operationId: 'restoreRun',
        summary: 'Restore a deleted run',
        params: RunIdParams,
        response: withErrors({ 200: RunSchema }),
      },
    },
    async (req) => {
      await tracking.restoreRun(req.params.id);
      return toWireRun(await tracking.getRun(req.params.id));
    },
  );

  app.post(
    '/runs/:id/batch',
    {
      schema: {
        tags,
        operationId: 'logBatch',
        summary: 'Log metrics, params and tags in one transaction',
        params: RunIdParams,
        body: LogBatchBody,
        response: withErrors({ 204: NoContent }),
      },
    },
    async (req, reply) => {
      const { metrics, params, tags: runTags } = req.body;
      await tracking.logBatch(req.params.id, {
        // An absent timestamp or step is filled in by the service (now, 0), as MLflow does.
        metrics: metrics?.map((m) => ({ key: m.key, value: decodeMetricValue(m.value), timestamp: m.timestamp as number, step: m.step as number })),
        params,
        tags: runTags,
      });
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/runs/:id/tags/:key',
    {
      schema: {
        tags,
        operationId: 'deleteRunTag',
        summary: 'Delete a tag from a run',
        params: RunTagParams,
        response: withErrors({ 204: NoContent }),
      },
    },
    async (req, reply) => {
      await tracking.deleteTag(req.params.id, req.params.key);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/runs/:id/metrics/:key',
    {
      schema: {
        tags,
        operationId: 'getMetricHistory',
        summary: 'Every logged point of one metric, by step then timestamp',
        params: MetricKeyParams,
        querystring: MetricHistoryQuery,
        response: withErrors({ 200: Page(MetricSchema, 'points') }),
      },
    },
    async (req) => {
      const page = await tracking.getMetricHistory(req.params.id, req.params.key, req.query);
      return { items: page.items.map(toWireMetric), nextPageToken: page.nextPageToken };
    },
  );

  // ----------------------------------------------------------------- artifacts

  app.get(
    '/runs/:id/artifacts',
    {
      schema: {
        tags,
        operationId: 'listRunArtifacts',
        summary: 'List the direct children of a directory in a run’s artifacts',
        params: RunIdParams,
        querystring: ListArtifactsQuery,
        response: withErrors({ 200: Type.Object({ items: Type.Array(ArtifactEntrySchema) }) }),
      },
    },
    async (req) => ({ items: await tracking.listRunArtifacts(req.params.id, req.query.path ?? '') }),
  );

  app.get(
    '/runs/:id/artifacts/*',
    {
      schema: {
        tags,
        operationId: 'downloadRunArtifact',
        summary: 'Download one of a run’s artifacts',
        params: ArtifactParams,
        response: withErrors({ 200: { description: 'The file’s bytes.', content: { 'application/octet-stream': { schema: Binary } } } }),
      },
    },
    async (req, reply) => {
      const stream = await tracking.getRunArtifact(req.params.id, req.params['*']);
      // Streams are sent as they are; the response schema only documents them.
      return (reply as FastifyReply).type('application/octet-stream').send(stream);
    },
  );

  // Uploads get their own scope: every content type arrives as the raw request
  // stream (even application/json is a file here), with no body limit.
  await app.register(async (uploads) => {
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    uploads.withTypeProvider<TypeBoxTypeProvider>().put(
      '/runs/:id/artifacts/*',
      {
        schema: {
          tags,
          operationId: 'uploadRunArtifact',
          summary: 'Upload (or replace) one of a run’s artifacts; the body is the file, streamed',
          params: ArtifactParams,
          body: { content: { 'application/octet-stream': { schema: Binary } } },
          response: withErrors({ 204: NoContent }),
        },
        // The body is a stream, not a value to validate; the id and path are strings the service checks.
        validatorCompiler: () => () => true,
      },
      async (req, reply) => {
        const body = (req.body as NodeJS.ReadableStream | undefined) ?? new Uint8Array(0);
        try {
          await tracking.putRunArtifact(req.params.id, req.params['*'], body);
        } catch (err) {
          // Discard what the client is still sending so it reads our error, not a reset connection.
          req.raw.resume();
          throw err;
        }
        return reply.code(204).send(null);
      },
    );
  });

  // -------------------------------------------------------------------- events

  app.get(
    '/events',
    {
      schema: {
        tags,
        operationId: 'listEvents',
        summary: 'The audit log: every state change, oldest first',
        querystring: ListEventsQuery,
        response: withErrors({ 200: Type.Object({ items: Type.Array(EventSchema) }) }),
      },
    },
    async (req) => ({ items: await listEvents(ctx.store.db, req.query) }),
  );
};
