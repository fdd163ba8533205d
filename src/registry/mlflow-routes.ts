/**
 * MLflow's model-registry REST API (mlflow/protos/model_registry.proto) under
 * /api/2.0/mlflow and, for MLflow's web UI, /ajax-api/2.0/mlflow: the
 * registered-models/* and model-versions/* endpoints, each with the HTTP
 * method the proto declares. Handlers read their fields with tracking's
 * `MlflowArgs`, make one RegistryService call and shape the answer with
 * mlflow-shapes.ts; errors become `{"error_code", "message"}` in server/errors.ts.
 * As in MLflow, model-versions/create needs an existing registered model and
 * deleting an alias or tag that is not set is a no-op.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../server/context.js';
import { MLFLOW_API_PREFIXES } from '../tracking/mlflow-routes.js';
import { page, type Json, type MlflowArgs } from '../tracking/mlflow-shapes.js';
import { boolArg, modelVersionToJson, registeredModelToJson, registryArgs, versionArg } from './mlflow-shapes.js';

type Handler = (args: MlflowArgs, ctx: AppContext) => Promise<Json>;

interface Endpoint {
  methods: ('GET' | 'POST' | 'PATCH' | 'DELETE')[];
  path: string;
  handler: Handler;
}

const EMPTY: Json = {};

const ENDPOINTS: Endpoint[] = [
  // ------------------------------------------------------- registered models
  {
    methods: ['POST'],
    path: '/registered-models/create',
    handler: async (a, { registry }) => {
      const m = await registry.createRegisteredModel({ name: a.requiredString('name'), tags: a.tags(), description: a.string('description') });
      return { registered_model: registeredModelToJson(m) };
    },
  },
  {
    methods: ['GET'],
    path: '/registered-models/get',
    handler: async (a, { registry }) => ({ registered_model: registeredModelToJson(await registry.getRegisteredModel(a.requiredString('name'))) }),
  },
  {
    methods: ['POST'],
    path: '/registered-models/rename',
    handler: async (a, { registry }) => {
      const name = a.requiredString('name');
      return { registered_model: registeredModelToJson(await registry.renameRegisteredModel(name, a.requiredString('new_name'))) };
    },
  },
  {
    methods: ['PATCH'],
    path: '/registered-models/update',
    handler: async (a, { registry }) => {
      const name = a.requiredString('name');
      return { registered_model: registeredModelToJson(await registry.updateRegisteredModel(name, { description: a.string('description') ?? '' })) };
    },
  },
  {
    methods: ['DELETE'],
    path: '/registered-models/delete',
    handler: async (a, { registry }) => (await registry.deleteRegisteredModel(a.requiredString('name')), EMPTY),
  },
  {
    methods: ['GET'],
    path: '/registered-models/search',
    handler: async (a, { registry }) => {
      const res = await registry.searchRegisteredModels({
        filter: a.string('filter'),
        maxResults: a.int('max_results'),
        orderBy: a.stringList('order_by'),
        pageToken: a.string('page_token') || undefined,
      });
      return page('registered_models', res.items.map(registeredModelToJson), res.nextPageToken);
    },
  },
  {
    methods: ['GET', 'POST'],
    path: '/registered-models/get-latest-versions',
    handler: async (a, { registry }) => {
      const name = a.requiredString('name');
      const versions = await registry.getLatestVersions(name, a.stringList('stages'));
      return page('model_versions', versions.map(modelVersionToJson), null);
    },
  },
  {
    methods: ['POST'],
    path: '/registered-models/set-tag',
    handler: async (a, { registry }) => {
      const name = a.requiredString('name');
      await registry.setRegisteredModelTag(name, a.requiredString('key'), a.string('value') ?? '');
      return EMPTY;
    },
  },
  {
    methods: ['DELETE'],
    path: '/registered-models/delete-tag',
    handler: async (a, { registry }) => {
      const name = a.requiredString('name');
      await registry.deleteRegisteredModelTag(name, a.requiredString('key'));
      return EMPTY;
    },
  },
  {
    methods: ['POST'],
    path: '/registered-models/alias',
    handler: async (a, { registry }) => {
      const name = a.requiredString('name');
      const alias = a.requiredString('alias');
      await registry.setAlias(name, alias, versionArg(a));
      return EMPTY;
    },
  },
  {
    methods: ['DELETE'],
    path: '/registered-models/alias',
    handler: async (a, { registry }) => {
      const name = a.requiredString('name');
      await registry.deleteAlias(name, a.requiredString('alias'), { missingOk: true });
      return EMPTY;
    },
  },
  {
    methods: ['GET'],
    path: '/registered-models/alias',
    handler: async (a, { registry }) => {
      const name = a.requiredString('name');
      return { model_version: modelVersionToJson(await registry.getByAlias(name, a.requiredString('alias'))) };
    },
  },

  // ---------------------------------------------------------- model versions
  {
    methods: ['POST'],
    path: '/model-versions/create',
    handler: async (a, { registry }) => {
      const mv = await registry.createModelVersion({
        name: a.requiredString('name'),
        source: a.requiredString('source'),
        runId: a.string('run_id') || undefined,
        tags: a.tags(),
        runLink: a.string('run_link') || undefined,
        description: a.string('description'),
      });
      return { model_version: modelVersionToJson(mv) };
    },
  },
  {
    methods: ['GET'],
    path: '/model-versions/get',
    handler: async (a, { registry }) => {
      const name = a.requiredString('name');
      return { model_version: modelVersionToJson(await registry.getModelVersion(name, versionArg(a))) };
    },
  },
  {
    methods: ['PATCH'],
    path: '/model-versions/update',
    handler: async (a, { registry }) => {
      const name = a.requiredString('name');
      const version = versionArg(a);
      return { model_version: modelVersionToJson(await registry.updateModelVersion(name, version, { description: a.string('description') ?? '' })) };
    },
  },
  {
    methods: ['DELETE'],
    path: '/model-versions/delete',
    handler: async (a, { registry }) => {
      const name = a.requiredString('name');
      await registry.deleteModelVersion(name, versionArg(a));
      return EMPTY;
    },
  },
  {
    methods: ['GET'],
    path: '/model-versions/search',
    handler: async (a, { registry }) => {
      const res = await registry.searchModelVersions({
        filter: a.string('filter'),
        maxResults: a.int('max_results'),
        orderBy: a.stringList('order_by'),
        pageToken: a.string('page_token') || undefined,
      });
      return page('model_versions', res.items.map(modelVersionToJson), res.nextPageToken);
    },
  },
  {
    methods: ['POST'],
    path: '/model-versions/transition-stage',
    handler: async (a, { registry }) => {
      const name = a.requiredString('name');
      const version = versionArg(a);
      const stage = a.requiredString('stage');
      const mv = await registry.transitionStage(name, version, stage, { archiveExistingVersions: boolArg(a, 'archive_existing_versions') });
      return { model_version: modelVersionToJson(mv) };
    },
  },
  {
    methods: ['POST'],
    path: '/model-versions/set-tag',
    handler: async (a, { registry }) => {
      const name = a.requiredString('name');
      const version = versionArg(a);
      await registry.setModelVersionTag(name, version, a.requiredString('key'), a.string('value') ?? '');
      return EMPTY;
    },
  },
  {
    methods: ['DELETE'],
    path: '/model-versions/delete-tag',
    handler: async (a, { registry }) => {
      const name = a.requiredString('name');
      const version = versionArg(a);
      await registry.deleteModelVersionTag(name, version, a.requiredString('key'));
      return EMPTY;
    },
  },
  {
    methods: ['GET'],
    path: '/model-versions/get-download-uri',
    handler: async (a, { registry }) => {
      const name = a.requiredString('name');
      return { artifact_uri: await registry.getModelVersionDownloadUri(name, versionArg(a)) };
    },
  },
];

export const mlflowRegistryRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  for (const prefix of MLFLOW_API_PREFIXES) {
    for (const ep of ENDPOINTS) {
      app.route({
        method: ep.methods,
        url: `${prefix}${ep.path}`,
        schema: { hide: true },
        handler: async (request) => ep.handler(registryArgs(request), ctx),
      });
    }
  }
};
