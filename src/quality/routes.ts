/**
 * The quality API under /api/v1: run a suite on a dataset version
 * (`POST /datasets/:ref/validate`, the suite in the JSON body or the name of
 * a registered one) and list the results stored for a version
 * (`GET /datasets/:ref/validations`). The suite registry and validated
 * uploads are in suite-routes.ts, registered from here. Handlers are thin;
 * rules live in QualityService, SuiteRegistry and parseSuite.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { invalidArgument } from '../core/errors.js';
import type { AppContext } from '../server/context.js';
import { withErrors } from '../tracking/v1-schemas.js';
import { RefParams, ValidateBody, ValidationList, ValidationResultSchema } from './schemas.js';
import { SuiteRegistry } from './registry.js';
import { QualityService } from './service.js';
import { parseSuite } from './suite.js';
import { suiteRoutes } from './suite-routes.js';

const tags = ['quality'];

export const qualityRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const quality = new QualityService({ store: ctx.store, engine: ctx.engine, data: ctx.data, actor: 'server' });
  const registry = new SuiteRegistry({ store: ctx.store, actor: 'server' });
  await app.register(suiteRoutes, { ctx, registry, quality });

  app.post(
    '/datasets/:ref/validate',
    {
      schema: {
        tags,
        operationId: 'validateDatasetVersion',
        summary: 'Run a quality suite on a dataset version',
        description: 'Runs every check (row-level ones in one scan) of the suite in the body or the registered suite it names, stores the result with the version unless save is false, and returns it. A failed check is a result, not an HTTP error; a malformed suite is a 400 naming the check and field.',
        params: RefParams,
        body: ValidateBody,
        response: withErrors({ 200: ValidationResultSchema }),
      },
    },
    async (req) => {
      const given = req.body.suite;
      const suite = typeof given === 'string' ? (await registry.getSuite(given)).definition : parseSuite(given, 'suite');
      let now: number | undefined;
      if (req.body.now !== undefined) {
        now = Date.parse(req.body.now);
        if (Number.isNaN(now)) throw invalidArgument(`now "${req.body.now}" is not an ISO 8601 time`);
      }
      return quality.validate(req.params.ref, suite, { now, save: req.body.save });
    },
  );

  app.get(
    '/datasets/:ref/validations',
    {
      schema: {
        tags,
        operationId: 'listValidations',
        summary: 'Stored validation results of a dataset version, newest first',
        params: RefParams,
        response: withErrors({ 200: ValidationList }),
      },
    },
    async (req) => {
      const version = await ctx.data.resolve(req.params.ref);
      return { items: await quality.results(version.id) };
    },
  );
};
