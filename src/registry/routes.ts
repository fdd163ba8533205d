/**
 * Flywheel's registry API under /api/v1: registered models (search, create,
 * get with versions and aliases, update, delete), versions created from a
 * run's package, stage transitions, aliases, and the resolution of model URIs.
 * Handlers are thin: rules live in RegistryService, wire shapes in
 * schemas.ts (which also feed the OpenAPI document); failures are
 * `{error: {code, message}}` through the global error handler.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { invalidArgument } from '../core/errors.js';
import type { AppContext } from '../server/context.js';
import { NoContent, withErrors } from '../tracking/v1-schemas.js';
import {
  AliasChangeSchema,
  AliasParams,
  CreateModelBody,
  CreateVersionBody,
  ModelPage,
  ModelVersionSchema,
  NameParams,
  RegisteredModelDetailSchema,
  RegisteredModelSchema,
  ResolveQuery,
  ResolvedModelSchema,
  SearchModelsQuery,
  SearchVersionsQuery,
  SetAliasBody,
  TransitionBody,
  UpdateModelBody,
  VersionPage,
  VersionParams,
} from './schemas.js';
import { runsUri } from './uri.js';
import { buildModelCard, renderModelCard } from './card.js';
import { CardParams, CardQuery, ModelCardSchema } from './card-schema.js';

const tags = ['models'];

export const registryRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const registry = ctx.registry;

  app.get(
    '/models',
    {
      schema: { tags, operationId: 'searchModels', summary: 'Search registered models', querystring: SearchModelsQuery, response: withErrors({ 200: ModelPage }) },
    },
    async (req) => registry.searchRegisteredModels(req.query),
  );

  app.post(
    '/models',
    {
      schema: { tags, operationId: 'createModel', summary: 'Register a model name', body: CreateModelBody, response: withErrors({ 201: RegisteredModelSchema }) },
    },
    async (req, reply) => reply.code(201).send(await registry.createRegisteredModel(req.body)),
  );

  app.get(
    '/models/:name',
    {
      schema: {
        tags,
        operationId: 'getModel',
        summary: 'A registered model with its versions and aliases',
        params: NameParams,
        response: withErrors({ 200: RegisteredModelDetailSchema }),
      },
    },
    async (req) => registry.getRegisteredModelDetail(req.params.name),
  );

  app.patch(
    '/models/:name',
    {
      schema: {
        tags,
        operationId: 'updateModel',
        summary: 'Set the description and/or rename a registered model',
        params: NameParams,
        body: UpdateModelBody,
        response: withErrors({ 200: RegisteredModelSchema }),
      },
    },
    async (req) => {
      let name = req.params.name;
      if (req.body.newName === undefined && req.body.description === undefined) return registry.getRegisteredModel(name);
      if (req.body.newName !== undefined) name = (await registry.renameRegisteredModel(name, req.body.newName)).name;
      if (req.body.description !== undefined) return registry.updateRegisteredModel(name, { description: req.body.description });
      return registry.getRegisteredModel(name);
    },
  );

  app.delete(
    '/models/:name',
    {
      schema: {
        tags,
        operationId: 'deleteModel',
        summary: 'Delete a registered model with its versions and aliases',
        params: NameParams,
        response: withErrors({ 204: NoContent }),
      },
    },
    async (req, reply) => {
      await registry.deleteRegisteredModel(req.params.name);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/model-versions',
    {
      schema: {
        tags,
        operationId: 'searchModelVersions',
        summary: 'Search model versions of every registered model',
        querystring: SearchVersionsQuery,
        response: withErrors({ 200: VersionPage }),
      },
    },
    async (req) => registry.searchModelVersions(req.query),
  );

  app.post(
    '/models/:name/versions',
    {
      schema: {
        tags,
        operationId: 'createModelVersion',
        summary: "Register a new version from a run's model package (the model is created if needed)",
        params: NameParams,
        body: CreateVersionBody,
        response: withErrors({ 201: ModelVersionSchema }),
      },
    },
    async (req, reply) => {
      const { source, runId, description, tags: versionTags } = req.body;
      if ((source === undefined) === (runId === undefined)) throw invalidArgument('Give either source (a model URI such as runs:/<runId>/model) or runId');
      const mv = await registry.createModelVersion({
        name: req.params.name,
        source: source ?? runsUri(runId!, 'model'),
        description,
        tags: versionTags,
        createModel: true,
      });
      return reply.code(201).send(mv);
    },
  );

  app.get(
    '/models/:name/versions/:version',
    {
      schema: { tags, operationId: 'getModelVersion', summary: 'One version', params: VersionParams, response: withErrors({ 200: ModelVersionSchema }) },
    },
    async (req) => registry.getModelVersion(req.params.name, req.params.version),
  );

  app.get(
    '/models/:name/versions/:version/card',
    {
      schema: {
        tags,
        operationId: 'getModelCard',
        summary: 'The model card of a version (version number or @alias): JSON, or Markdown with ?format=markdown',
        params: CardParams,
        querystring: CardQuery,
        response: withErrors({ 200: ModelCardSchema }),
      },
    },
    async (req, reply) => {
      const { defaultEvaluationLookup } = await import('../automation/evaluators.js');
      const card = await buildModelCard(
        { registry, tracking: ctx.tracking, data: ctx.data, db: ctx.store.db, evaluation: defaultEvaluationLookup(ctx) },
        req.params.name,
        req.params.version,
      );
      if (req.query.format === 'markdown') return reply.type('text/markdown; charset=utf-8').send(renderModelCard(card) as never);
      return card;
    },
  );

  app.delete(
    '/models/:name/versions/:version',
    {
      schema: {
        tags,
        operationId: 'deleteModelVersion',
        summary: 'Delete a version (its number is never reused; aliases on it are removed)',
        params: VersionParams,
        response: withErrors({ 204: NoContent }),
      },
    },
    async (req, reply) => {
      await registry.deleteModelVersion(req.params.name, req.params.version);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/models/:name/versions/:version/stage',
    {
      schema: {
        tags,
        operationId: 'transitionModelVersionStage',
        summary: "Move a version to one of MLflow's legacy stages",
        params: VersionParams,
        body: TransitionBody,
        response: withErrors({ 200: ModelVersionSchema }),
      },
    },
    async (req) => registry.transitionStage(req.params.name, req.params.version, req.body.stage, { archiveExistingVersions: req.body.archiveExistingVersions }),
  );

  app.get(
    '/models/:name/aliases/:alias',
    {
      schema: { tags, operationId: 'getModelVersionByAlias', summary: 'The version an alias points at', params: AliasParams, response: withErrors({ 200: ModelVersionSchema }) },
    },
    async (req) => registry.getByAlias(req.params.name, req.params.alias),
  );

  app.put(
    '/models/:name/aliases/:alias',
    {
      schema: {
        tags,
        operationId: 'setModelAlias',
        summary: 'Point an alias at a version (moving it is recorded as an event)',
        params: AliasParams,
        body: SetAliasBody,
        response: withErrors({ 200: AliasChangeSchema }),
      },
    },
    async (req) => registry.setAlias(req.params.name, req.params.alias, req.body.version),
  );

  app.delete(
    '/models/:name/aliases/:alias',
    {
      schema: { tags, operationId: 'deleteModelAlias', summary: 'Remove an alias', params: AliasParams, response: withErrors({ 200: AliasChangeSchema }) },
    },
    async (req) => (await registry.deleteAlias(req.params.name, req.params.alias))!,
  );

  app.get(
    '/model-uris/resolve',
    {
      schema: {
        tags,
        operationId: 'resolveModelUri',
        summary: 'Resolve models:/NAME@ALIAS, models:/NAME/VERSION, models:/NAME/STAGE or runs:/RUN/PATH to a version and its package',
        querystring: ResolveQuery,
        response: withErrors({ 200: ResolvedModelSchema }),
      },
    },
    async (req) => registry.resolveModelUri(req.query.uri),
  );
};
