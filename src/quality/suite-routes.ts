/**
 * The suite registry and validated uploads under /api/v1:
 * `PUT/GET/DELETE /suites/:name` and `GET /suites` keep suites by name, and
 * `POST /datasets/:name/versions/validated?suite=NAME` uploads a file (the
 * request body, streamed to a temp file as the data slice's upload does) and
 * adds it only if the registered suite passes — with `quarantine=true`,
 * setting failing rows aside. A refusal is 422 FW_SUITE_FAILED naming the
 * failing checks, with the result in `details.validation`; nothing is
 * committed. The composition of data and quality happens here, in the
 * quality slice; the data slice only lends its upload helpers.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { invalidArgument } from '../core/errors.js';
import { NameParams } from '../data/schemas.js';
import { nameUploadInError, parseTags, saveUploadBody } from '../data/routes.js';
import type { AppContext } from '../server/context.js';
import { Binary, NoContent, withErrors } from '../tracking/v1-schemas.js';
import { addWithSuite, checkSuiteDataset } from './add-with-suite.js';
import { SuiteRegistry } from './registry.js';
import {
  ListSuitesQuery,
  PutSuiteBody,
  PutSuiteResultSchema,
  RegisteredSuiteSchema,
  SuiteList,
  SuiteNameParams,
  ValidatedAddSchema,
  ValidatedUploadQuery,
} from './schemas.js';
import { QualityService } from './service.js';
import { parseSuite } from './suite.js';

const tags = ['quality'];

export const suiteRoutes: FastifyPluginAsync<{ ctx: AppContext; registry?: SuiteRegistry; quality?: QualityService }> = async (fastify, opts) => {
  const { ctx } = opts;
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const registry = opts.registry ?? new SuiteRegistry({ store: ctx.store, actor: 'server' });
  const quality = opts.quality ?? new QualityService({ store: ctx.store, engine: ctx.engine, data: ctx.data, actor: 'server' });

  app.put(
    '/suites/:name',
    {
      schema: {
        tags,
        operationId: 'putSuite',
        summary: 'Register a quality suite under a name (or replace its definition)',
        description: 'The body is the suite with the keys of a suite YAML file; "name" may be left out. 201 when the name is new, 200 otherwise (change tells updated from unchanged). A malformed suite is a 400 naming the check and field.',
        params: SuiteNameParams,
        body: PutSuiteBody,
        response: withErrors({ 201: PutSuiteResultSchema, 200: PutSuiteResultSchema }),
      },
    },
    async (req, reply) => {
      const { name } = req.params;
      if (req.body.name !== undefined && req.body.name !== name) throw invalidArgument(`The suite in the body is named "${req.body.name}", the URL names "${name}"`);
      const suite = parseSuite({ ...req.body, name }, `suite "${name}"`);
      const result = await registry.putSuite(suite);
      return reply.code(result.change === 'created' ? 201 : 200).send(result);
    },
  );

  app.get(
    '/suites',
    { schema: { tags, operationId: 'listSuites', summary: 'Registered suites, by name', querystring: ListSuitesQuery, response: withErrors({ 200: SuiteList }) } },
    async (req) => ({ items: await registry.listSuites(req.query.dataset) }),
  );

  app.get(
    '/suites/:name',
    { schema: { tags, operationId: 'getSuite', summary: 'A registered suite', params: SuiteNameParams, response: withErrors({ 200: RegisteredSuiteSchema }) } },
    async (req) => registry.getSuite(req.params.name),
  );

  app.delete(
    '/suites/:name',
    {
      schema: {
        tags,
        operationId: 'deleteSuite',
        summary: 'Remove a registered suite (results stored with versions keep the suite they ran)',
        params: SuiteNameParams,
        response: withErrors({ 204: NoContent }),
      },
    },
    async (req, reply) => {
      await registry.deleteSuite(req.params.name);
      return reply.code(204).send(null);
    },
  );

  // As in the data slice's upload: its own scope, where every content type arrives as the raw request stream.
  await app.register(async (uploads) => {
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    uploads.withTypeProvider<TypeBoxTypeProvider>().post(
      '/datasets/:name/versions/validated',
      {
        schema: {
          tags,
          operationId: 'addValidatedDatasetVersion',
          summary: 'Upload a file as a new version if a registered suite passes on it (the body is the file, streamed)',
          description:
            'Checks the uploaded data with the registered suite before committing it. 201 with the version, the stored validation result and, with quarantine=true, the rows set aside; 200 when skipUnchanged found nothing new. When an error-severity check fails: 422 FW_SUITE_FAILED naming the checks, the result in error.details.validation, and no version.',
          params: NameParams,
          querystring: ValidatedUploadQuery,
          body: { content: { 'application/octet-stream': { schema: Binary } } },
          response: withErrors({ 201: ValidatedAddSchema, 200: ValidatedAddSchema }),
        },
        // The body is a stream, not a value to validate; params and query are checked (and coerced) by TypeBox.
        validatorCompiler: (route) => (route.httpPart === 'body' ? () => true : TypeBoxValidatorCompiler(route)),
      },
      async (req, reply) => {
        const q = req.query;
        const name = req.params.name;
        let suite;
        try {
          // Before the upload is read: an unknown suite or one bound elsewhere costs no transfer.
          suite = (await registry.getSuite(q.suite)).definition;
          checkSuiteDataset(suite, name);
        } catch (err) {
          req.raw.resume();
          throw err;
        }
        const format = q.format ?? 'csv';
        const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'fw-upload-'));
        try {
          const file = path.join(dir, `upload.${format}`);
          await saveUploadBody(req, file);
          const addOptions = {
            format,
            message: q.message,
            author: q.author,
            tags: parseTags(q.tag),
            skipUnchanged: q.skipUnchanged,
            onBadRows: q.onBadRows,
            allowSchemaChange: q.allowSchemaChange,
          };
          const { add, validation } = await addWithSuite({ data: ctx.data, engine: ctx.engine, quality }, name, file, addOptions, { suite, quarantine: q.quarantine }).catch(
            (err: unknown) => {
              // Messages name the uploaded body, not our temp file.
              throw nameUploadInError(err, file);
            },
          );
          return reply.code(add.created ? 201 : 200).send({ ...add, validation });
        } finally {
          await fsp.rm(dir, { recursive: true, force: true });
        }
      },
    );
  });
};
