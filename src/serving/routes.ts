/**
 * Serving over HTTP, three ways into the same path (ServingHost.predict):
 *
 * - Flywheel's own: `POST /api/v1/deployments/{name}/predict` with
 *   `{"rows": [...]}`, MLflow's scoring formats at
 *   `/api/v1/deployments/{name}/invocations`, feedback, the prediction log,
 *   and deployment management (create, traffic, rollback, delete).
 * - The Open Inference Protocol (KServe V2) under `/v2`, where a model is a
 *   deployment and its versions are the registry versions it serves; errors
 *   there are `{"error": "..."}` as the protocol defines.
 * - MLflow's scoring server root routes (`/invocations`, `/ping`) for the
 *   deployment a process serves alone (or the one named by `defaultDeployment`).
 *
 * Every prediction request is validated against the chosen arm's signature
 * before it reaches a batcher, so one bad request never fails another.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { FLYWHEEL_VERSION } from '../core/version.js';
import { FlywheelError, invalidArgument } from '../core/errors.js';
import type { ModelManifest, ModelSignature } from '../models/manifest.js';
import { NoContent, withErrors } from '../tracking/v1-schemas.js';
import type { LiveArm, Plan, ServingHost } from './host.js';
import { inferResponse, modelMetadata, parseInferRequest, serverMetadata } from './protocols/v2.js';
import { invocationsResponse, parseInvocations } from './protocols/mlflow.js';
import { parsePlainRequest, plainResponse } from './protocols/plain.js';
import type { DeploymentService } from './service.js';

export interface ServingRouteOptions {
  host: ServingHost;
  deployments: DeploymentService;
  /** Largest prediction request body (bytes); bigger is 413. */
  maxBodyBytes?: number;
  /** The deployment MLflow's root `/invocations` serves when this process serves several. */
  defaultDeployment?: string;
}

export const DEFAULT_MAX_PREDICT_BODY_BYTES = 8 * 1024 * 1024;

const tags = ['deployments'];

const NameParams = Type.Object({ name: Type.String() });
const DeployBody = Type.Object({
  name: Type.String({ description: 'Deployment name: lower-case letters, digits and dashes.' }),
  model: Type.Optional(Type.String({ description: 'Primary model: churn@champion (follows the alias) or churn/3.' })),
  canary: Type.Optional(Type.String({ description: 'REF:PERCENT%, e.g. churn@challenger:10%' })),
  ab: Type.Optional(Type.String({ description: 'REF:PERCENT% for arm b of a sticky A/B split.' })),
  shadow: Type.Optional(Type.String({ description: 'A model that receives a copy of every request; its answers are only logged.' })),
  key: Type.Optional(Type.String({ description: 'Row field keying sticky splits when a request names no key.' })),
  policy: Type.Optional(Type.Unknown({ description: 'A whole traffic policy {kind, arms, key} instead of the shorthand.' })),
  description: Type.Optional(Type.String()),
});
const TrafficBody = Type.Object({
  model: Type.Optional(Type.String()),
  canary: Type.Optional(Type.String()),
  ab: Type.Optional(Type.String()),
  shadow: Type.Optional(Type.String()),
  key: Type.Optional(Type.String()),
});
const RollbackBody = Type.Object({ revision: Type.Optional(Type.Integer({ minimum: 1 })) });
const PredictionsQuery = Type.Object({
  since: Type.Optional(Type.Integer({ description: 'Epoch ms, inclusive.' })),
  until: Type.Optional(Type.Integer({ description: 'Epoch ms, exclusive.' })),
  arm: Type.Optional(Type.String()),
  labelled: Type.Optional(Type.Boolean({ description: 'Only predictions with feedback.' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
});
const Anything = Type.Unknown();

/** The request key for sticky splits: header, then the body's own field, then the policy's key field of the first raw row. */
function requestKey(req: FastifyRequest, plan: Plan, bodyKey: unknown, firstRow: unknown): string | null {
  const header = req.headers['x-flywheel-key'];
  if (typeof header === 'string' && header !== '') return header;
  if (typeof bodyKey === 'string' && bodyKey !== '') return bodyKey;
  if (typeof bodyKey === 'number') return String(bodyKey);
  const field = plan.revision.policy.key;
  if (field && typeof firstRow === 'object' && firstRow !== null) {
    const v = (firstRow as Record<string, unknown>)[field];
    if (typeof v === 'string' || typeof v === 'number') return String(v);
  }
  return null;
}

function firstRawRow(body: unknown, kind: 'plain' | 'invocations'): unknown {
  const b = body as Record<string, unknown> | null;
  if (typeof b !== 'object' || b === null) return undefined;
  if (kind === 'plain') return Array.isArray(b.rows) ? b.rows[0] : undefined;
  for (const k of ['dataframe_records', 'instances', 'inputs']) if (Array.isArray(b[k])) return (b[k] as unknown[])[0];
  const split = b.dataframe_split as { columns?: unknown[]; data?: unknown[][] } | undefined;
  if (split && Array.isArray(split.columns) && Array.isArray(split.data) && Array.isArray(split.data[0])) {
    return Object.fromEntries(split.columns.map((c, i) => [String(c), split.data![0][i]]));
  }
  return undefined;
}

export const servingRoutes: FastifyPluginAsync<ServingRouteOptions> = async (fastify, options) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { host, deployments } = options;
  const bodyLimit = options.maxBodyBytes ?? DEFAULT_MAX_PREDICT_BODY_BYTES;
  // MLflow's scoring server takes CSV too; the parser is scoped to these routes.
  fastify.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body));

  // ------------------------------------------------------------ management

  app.get('/api/v1/deployments', { schema: { tags, operationId: 'listDeployments', summary: 'List deployments with their current revision', response: withErrors({ 200: Anything }) } }, async () => ({
    deployments: await deployments.list(),
  }));

  app.post('/api/v1/deployments', { schema: { tags, operationId: 'deploy', summary: 'Create a deployment, or give it a new revision', body: DeployBody, response: withErrors({ 201: Anything }) } }, async (req, reply) => {
    const b = req.body;
    const spec = b.policy !== undefined ? { policy: b.policy } : { model: b.model as string, canary: b.canary, ab: b.ab, shadow: b.shadow, key: b.key };
    if (b.policy === undefined && b.model === undefined) throw invalidArgument('model is required (or a whole policy)', { field: 'model' });
    const detail = await deployments.deploy(b.name, spec, { description: b.description });
    void host.refresh().catch(() => {});
    return reply.code(201).send(detail);
  });

  app.get('/api/v1/deployments/:name', { schema: { tags, operationId: 'getDeployment', summary: 'A deployment with all its revisions', params: NameParams, response: withErrors({ 200: Anything }) } }, async (req) =>
    deployments.get(req.params.name),
  );

  app.post(
    '/api/v1/deployments/:name/traffic',
    { schema: { tags, operationId: 'setTraffic', summary: 'A new revision with another traffic split', params: NameParams, body: TrafficBody, response: withErrors({ 201: Anything }) } },
    async (req, reply) => {
      const detail = await deployments.setTraffic(req.params.name, req.body);
      void host.refresh().catch(() => {});
      return reply.code(201).send(detail);
    },
  );

  app.post(
    '/api/v1/deployments/:name/rollback',
    { schema: { tags, operationId: 'rollbackDeployment', summary: "A new revision with an earlier revision's policy (default: the previous one)", params: NameParams, body: RollbackBody, response: withErrors({ 201: Anything }) } },
    async (req, reply) => {
      const detail = await deployments.rollback(req.params.name, req.body?.revision);
      void host.refresh().catch(() => {});
      return reply.code(201).send(detail);
    },
  );

  app.delete('/api/v1/deployments/:name', { schema: { tags, operationId: 'deleteDeployment', summary: 'Delete a deployment (its prediction log stays)', params: NameParams, response: withErrors({ 204: NoContent }) } }, async (req, reply) => {
    await deployments.delete(req.params.name);
    void host.refresh().catch(() => {});
    return reply.code(204).send(null);
  });

  app.get(
    '/api/v1/deployments/:name/predictions',
    { schema: { tags, operationId: 'listPredictions', summary: 'Logged predictions joined with their feedback, newest first', params: NameParams, querystring: PredictionsQuery, response: withErrors({ 200: Anything }) } },
    async (req) => {
      await host.flushLog();
      return { predictions: await deployments.predictions(req.params.name, req.query) };
    },
  );

  app.post(
    '/api/v1/deployments/:name/feedback',
    {
      bodyLimit,
      schema: {
        tags,
        operationId: 'recordFeedback',
        summary: 'Ground-truth labels by prediction id: {prediction_id, label} or {feedback: [...]}',
        params: NameParams,
        body: Anything,
        response: withErrors({ 200: Anything }),
      },
    },
    async (req) => {
      const b = req.body as Record<string, unknown> | null;
      if (typeof b !== 'object' || b === null || Array.isArray(b)) throw invalidArgument('feedback must be {prediction_id, label} or {feedback: [{prediction_id, label}, ...]}');
      const raw = Array.isArray(b.feedback) ? b.feedback : [b];
      const items = raw.map((f) => {
        const o = (f ?? {}) as Record<string, unknown>;
        return { predictionId: (o.prediction_id ?? o.predictionId) as string, label: o.label };
      });
      // Predictions acknowledged by this process are written first, so feedback sent right after them matches.
      await host.flushLog();
      return deployments.recordFeedback(req.params.name, items);
    },
  );

  // ------------------------------------------------------------ prediction

  /** Arm choice, validation against its signature, prediction: the part every protocol shares. */
  async function serve(
    req: FastifyRequest,
    reply: FastifyReply,
    name: string,
    protocol: string,
    parse: (signature: ModelSignature, manifest: ModelManifest) => { rows: Record<string, unknown>[]; key?: unknown },
    rawFirstRow: unknown,
    version?: string,
  ) {
    const plan = await host.plan(name);
    // The key may sit in the body; parse with the primary's signature only to find it when no header names one.
    let arm: LiveArm;
    let parsed: { rows: Record<string, unknown>[]; key?: unknown };
    let key: string | null;
    if (version !== undefined) {
      arm = host.chooseArm(plan, null, version);
      parsed = parse(arm.pooled.model.manifest.signature, arm.pooled.model.manifest);
      key = requestKey(req, plan, parsed.key, rawFirstRow);
    } else {
      const first = plan.arms[0];
      parsed = parse(first.pooled.model.manifest.signature, first.pooled.model.manifest);
      key = requestKey(req, plan, parsed.key, rawFirstRow);
      arm = host.chooseArm(plan, key);
      if (arm !== first && arm.pooled.model.manifest.signature !== first.pooled.model.manifest.signature) parsed = parse(arm.pooled.model.manifest.signature, arm.pooled.model.manifest);
    }
    if (parsed.rows.length === 0) throw invalidArgument('the request has no rows to predict');
    const result = await host.predict(plan, arm, parsed.rows, { protocol, key });
    reply.header('x-prediction-id', result.predictionIds.length === 1 ? result.predictionIds[0] : result.predictionIds.join(','));
    reply.header('x-flywheel-arm', result.arm);
    reply.header('x-flywheel-model-version', `${result.modelName}/${result.modelVersion}`);
    return { plan, result };
  }

  app.post('/api/v1/deployments/:name/predict', { bodyLimit, schema: { tags, operationId: 'predict', summary: 'Predict rows: {"rows": [...], "key"?: "user-1"}', params: NameParams, body: Anything, response: withErrors({ 200: Anything }) } }, async (req, reply) => {
    const { result } = await serve(req, reply, req.params.name, 'plain', (sig) => parsePlainRequest(req.body, sig), firstRawRow(req.body, 'plain'));
    return plainResponse({
      deployment: result.deployment,
      revision: result.revision,
      results: result.predictions.map((p, i) => ({ predictionId: result.predictionIds[i], modelName: result.modelName, modelVersion: result.modelVersion, arm: result.arm, prediction: p })),
    });
  });

  const invocations = async (req: FastifyRequest, reply: FastifyReply, name: string) => {
    const contentType = String(req.headers['content-type'] ?? 'application/json');
    const { result } = await serve(req, reply, name, 'mlflow', (sig) => parseInvocations(req.body, contentType, sig), firstRawRow(req.body, 'invocations'));
    return invocationsResponse(result.predictions, result.predictionIds);
  };

  app.post('/api/v1/deployments/:name/invocations', { bodyLimit, schema: { tags, operationId: 'invocations', summary: "MLflow scoring formats (dataframe_split, dataframe_records, instances, inputs, CSV)", params: NameParams, body: Anything } }, async (req, reply) =>
    invocations(req, reply, (req.params as { name: string }).name),
  );

  const rootDeployment = async (): Promise<string> => {
    if (options.defaultDeployment) return options.defaultDeployment;
    let names = host.names();
    if (names.length === 0) {
      await host.refresh();
      names = host.names();
    }
    if (names.length === 1) return names[0];
    throw invalidArgument(
      names.length === 0 ? 'no deployment is being served here' : `this server serves several deployments (${names.join(', ')}); use /api/v1/deployments/{name}/invocations or start it with --deployment`,
    );
  };
  app.post('/invocations', { bodyLimit, schema: { hide: true } }, async (req, reply) => invocations(req, reply, await rootDeployment()));
  app.get('/ping', { schema: { hide: true } }, async (_req, reply) => {
    const ready = host.names().length > 0;
    return reply.code(ready ? 200 : 503).type('text/plain').send(ready ? '\n' : 'no deployment is being served\n');
  });

  // ------------------------------------------------------------ Open Inference Protocol (V2)

  app.get('/v2', { schema: { hide: true } }, async () => serverMetadata(FLYWHEEL_VERSION));
  app.get('/v2/health/live', { schema: { hide: true } }, async () => ({ live: true }));
  app.get('/v2/health/ready', { schema: { hide: true } }, async (_req, reply) => {
    // Ready once every deployment this process should serve has a live plan.
    const state = await deployments.servingState();
    const ready = state.every((s) => !host.serves(s.deployment.name) || host.livePlan(s.deployment.name) !== undefined);
    return reply.code(ready ? 200 : 503).send({ ready });
  });

  const metadata = async (name: string, version?: string) => {
    const plan = await host.plan(name);
    const arm = version !== undefined ? host.chooseArm(plan, null, version) : plan.arms[0];
    const m = arm.pooled.model.manifest;
    return modelMetadata({
      name,
      versions: [...new Set([...plan.arms, ...plan.shadows].map((a) => a.modelVersion))],
      platform: `flywheel-${m.flavor}`,
      signature: m.signature,
      task: m.task,
      classes: m.classes,
    });
  };
  app.get('/v2/models/:name', { schema: { hide: true } }, async (req) => metadata((req.params as { name: string }).name));
  app.get('/v2/models/:name/versions/:version', { schema: { hide: true } }, async (req) => {
    const p = req.params as { name: string; version: string };
    return metadata(p.name, p.version);
  });
  const modelReady = async (name: string, version: string | undefined, reply: FastifyReply) => {
    let ready = false;
    try {
      const plan = await host.plan(name);
      ready = version === undefined || [...plan.arms, ...plan.shadows].some((a) => a.modelVersion === version);
    } catch (err) {
      if (!(err instanceof FlywheelError) || err.code !== 'FW_NOT_READY') throw err;
    }
    return reply.code(ready ? 200 : 503).send({ name, ready });
  };
  app.get('/v2/models/:name/ready', { schema: { hide: true } }, async (req, reply) => modelReady((req.params as { name: string }).name, undefined, reply));
  app.get('/v2/models/:name/versions/:version/ready', { schema: { hide: true } }, async (req, reply) => {
    const p = req.params as { name: string; version: string };
    return modelReady(p.name, p.version, reply);
  });

  const infer = async (req: FastifyRequest, reply: FastifyReply, name: string, version?: string) => {
    let id: string | undefined;
    let requestedOutputs: string[] | undefined;
    const { result, plan } = await serve(
      req,
      reply,
      name,
      'v2',
      (sig, manifest) => {
        const r = parseInferRequest(req.body, sig, { task: manifest.task });
        id = r.id;
        requestedOutputs = r.requestedOutputs;
        return { rows: r.rows, key: (r.parameters as Record<string, unknown> | undefined)?.key };
      },
      undefined,
      version,
    );
    const arm = [...plan.arms, ...plan.shadows].find((a) => a.modelVersion === result.modelVersion)!;
    const m = arm.pooled.model.manifest;
    return inferResponse({
      modelName: name,
      modelVersion: result.modelVersion,
      id,
      predictions: result.predictions,
      task: m.task,
      classes: m.classes,
      requestedOutputs,
      predictionIds: result.predictionIds,
    });
  };
  app.post('/v2/models/:name/infer', { bodyLimit, schema: { hide: true } }, async (req, reply) => infer(req, reply, (req.params as { name: string }).name));
  app.post('/v2/models/:name/versions/:version/infer', { bodyLimit, schema: { hide: true } }, async (req, reply) => {
    const p = req.params as { name: string; version: string };
    return infer(req, reply, p.name, p.version);
  });
};
