/**
 * The pipelines API under /api/v1 (tag `pipelines`): the pipelines of the
 * server's flywheel.yaml with their schedule, triggers and last run; starting
 * a run (202 with its id — the run goes on in the background), listing and
 * showing runs with their step records, resuming a failed run and cancelling
 * a run in progress — in this server at once, in another process through
 * the run's record, which that process polls. Handlers are thin: PipelineHost and the
 * runner hold the rules.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppContext } from '../server/context.js';
import { withErrors } from '../tracking/v1-schemas.js';
import { PipelineHost } from './host.js';
import type { PipelineScheduler } from './scheduler.js';
import type { PipelineRunRecord } from './store.js';
import { listPipelineRuns } from './store.js';

const ParamValue = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);
const Params = Type.Record(Type.String(), ParamValue, { description: 'Param overrides: NAME (every step declaring it) or STEP.NAME.' });
const RunStatus = Type.Enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'], { type: 'string' });
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

const PipelineRunSchema = Type.Object({
  id: Type.String(),
  pipeline: Type.String(),
  status: RunStatus,
  params: Params,
  definitionHash: Type.String({ description: 'sha256 of the definition snapshot the run ran.' }),
  trackingRunId: NullableString,
  resumedFrom: NullableString,
  error: NullableString,
  startedTime: Type.Integer({ description: 'epoch milliseconds' }),
  endedTime: NullableInt,
  cancelRequestedTime: Type.Optional(Type.Union([Type.Integer(), Type.Null()], { description: 'When cancellation was asked for (epoch milliseconds), if it was.' })),
});

const StepRunSchema = Type.Object({
  step: Type.String(),
  status: Type.Enum(['PENDING', 'RUNNING', 'SUCCEEDED', 'CACHED', 'FAILED', 'SKIPPED', 'CANCELLED'], { type: 'string' }),
  attempts: Type.Integer(),
  cacheKey: NullableString,
  cached: Type.Boolean(),
  trackingRunId: NullableString,
  error: NullableString,
  outputs: Type.Record(Type.String(), Type.String(), { description: 'Output name → dataset version id.' }),
  startedTime: NullableInt,
  endedTime: NullableInt,
});

const PipelineSchema = Type.Object({
  name: Type.String(),
  steps: Type.Array(Type.String()),
  schedule: Type.Union([
    Type.Object({
      cron: Type.String(),
      timezone: Type.String(),
      missed: Type.Enum(['skip', 'catch_up_one'], { type: 'string' }),
      nextFireTime: Type.Optional(NullableInt),
    }),
    Type.Null(),
  ]),
  triggers: Type.Array(Type.Object({ on: Type.Enum(['dataset', 'alert'], { type: 'string' }), dataset: Type.Optional(Type.String()), monitor: Type.Optional(Type.String()) })),
  lastRun: Type.Union([PipelineRunSchema, Type.Null()]),
});

const Started = Type.Object({ id: Type.String({ description: 'The pipeline run id.' }) });
const RunId = Type.Object({ id: Type.String({ minLength: 1 }) });
const Cancelled = Type.Object({
  id: Type.String({ description: 'The pipeline run id.' }),
  cancel: Type.Enum(['aborted', 'requested'], {
    type: 'string',
    description: 'aborted: the run was running in this server and is stopping now; requested: it runs in another process, which stops it at its next check of the record.',
  }),
});

function wire(r: PipelineRunRecord) {
  const { definition: _d, ...rest } = r;
  return rest;
}

export const pipelinesRoutes: FastifyPluginAsync<{ ctx: AppContext; host?: PipelineHost; scheduler?: PipelineScheduler }> = async (fastify, opts) => {
  const { ctx } = opts;
  let host = opts.host;
  if (!host) {
    const own = new PipelineHost(ctx, { file: 'flywheel.yaml' });
    fastify.addHook('onClose', () => own.close());
    host = own;
  }
  const h = host;
  const db = ctx.store.db;
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/pipelines',
    { schema: { tags: ['pipelines'], operationId: 'listPipelines', summary: "The pipelines of the server's flywheel.yaml, with schedule, triggers and last run", response: withErrors({ 200: Type.Object({ file: Type.String(), pipelines: Type.Array(PipelineSchema) }) }) } },
    async () => {
      const defs = h.definitions();
      const states = new Map((await (opts.scheduler?.states() ?? Promise.resolve([]))).map((s) => [s.pipeline, s]));
      const pipelines = [];
      for (const d of defs) {
        const last = (await listPipelineRuns(db, d.name, 1))[0];
        pipelines.push({
          name: d.name,
          steps: d.steps.map((s) => s.name),
          schedule: d.schedule ? { ...d.schedule, ...(states.has(d.name) ? { nextFireTime: states.get(d.name)!.nextFireTime } : {}) } : null,
          triggers: d.triggers ?? [],
          lastRun: last ? wire(last) : null,
        });
      }
      return { file: h.file, pipelines };
    },
  );

  app.post(
    '/pipelines/:name/runs',
    {
      schema: {
        tags: ['pipelines'],
        operationId: 'startPipelineRun',
        summary: 'Start a run of a pipeline; it continues in the background',
        params: Type.Object({ name: Type.String({ minLength: 1 }) }),
        body: Type.Object({ params: Type.Optional(Params), force: Type.Optional(Type.Boolean({ description: 'Ignore the cache.' })) }, { additionalProperties: false, description: 'Optional: no body is the same as {}.' }),
        response: withErrors({ 202: Started }),
      },
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = {};
      },
    },
    async (req, reply) => {
      const id = await h.start(req.params.name, { params: req.body.params, force: req.body.force, trigger: 'api' });
      return reply.code(202).send({ id });
    },
  );

  app.get(
    '/pipelines/runs',
    {
      schema: {
        tags: ['pipelines'],
        operationId: 'listPipelineRuns',
        summary: 'Recent pipeline runs, newest first',
        querystring: Type.Object({ pipeline: Type.Optional(Type.String({ minLength: 1 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }),
        response: withErrors({ 200: Type.Object({ runs: Type.Array(PipelineRunSchema) }) }),
      },
    },
    async (req) => ({ runs: (await listPipelineRuns(db, req.query.pipeline, req.query.limit ?? 100)).map(wire) }),
  );

  app.get(
    '/pipelines/runs/:id',
    {
      schema: {
        tags: ['pipelines'],
        operationId: 'getPipelineRun',
        summary: 'A pipeline run with its step records',
        params: RunId,
        response: withErrors({ 200: Type.Object({ run: PipelineRunSchema, steps: Type.Array(StepRunSchema), active: Type.Boolean({ description: 'Running in this server (can be cancelled here).' }) }) }),
      },
    },
    async (req) => {
      const shown = await h.runner.show(req.params.id);
      return { run: wire(shown.run), steps: shown.steps, active: h.isActive(req.params.id) };
    },
  );

  app.post(
    '/pipelines/runs/:id/resume',
    { schema: { tags: ['pipelines'], operationId: 'resumePipelineRun', summary: 'Rerun a failed or cancelled run from its failed steps (a new run)', params: RunId, response: withErrors({ 202: Started }) } },
    async (req, reply) => reply.code(202).send({ id: await h.resume(req.params.id) }),
  );

  app.post(
    '/pipelines/runs/:id/cancel',
    {
      schema: {
        tags: ['pipelines'],
        operationId: 'cancelPipelineRun',
        summary: 'Cancel a run in progress, here or in another process; it ends CANCELLED shortly after',
        params: RunId,
        response: withErrors({ 202: Cancelled }),
      },
    },
    async (req, reply) => {
      const cancel = await h.cancel(req.params.id);
      return reply.code(202).send({ id: req.params.id, cancel });
    },
  );
};
