/**
 * MLflow's tracking REST API (mlflow/protos/service.proto) served under
 * /api/2.0/mlflow and, for MLflow's web UI, /ajax-api/2.0/mlflow. Each handler
 * reads its fields with `MlflowArgs`, makes one TrackingService call and maps the
 * result with the shapes in mlflow-shapes.ts; every rule lives in the service.
 * Errors thrown here become MLflow's {"error_code", "message"} in server/errors.ts.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { FlywheelError } from '../core/errors.js';
import type { AppContext } from '../server/context.js';
import { LIMITS } from './limits.js';
import {
  MlflowArgs,
  experimentToJson,
  fileInfoToJson,
  metricToJson,
  missingValue,
  page,
  runInfoToJson,
  runToJson,
  type Json,
} from './mlflow-shapes.js';
import type { Metric } from './types.js';

export const MLFLOW_API_PREFIXES = ['/api/2.0/mlflow', '/ajax-api/2.0/mlflow'] as const;

type Handler = (args: MlflowArgs, ctx: AppContext) => Promise<Json>;

interface Endpoint {
  methods: ('GET' | 'POST')[];
  path: string;
  handler: Handler;
  bodyLimit?: number;
}

const EMPTY: Json = {};

/** log-batch's per-entry required fields, with MLflow's paths ("metrics[3].timestamp"). */
function batchMetrics(args: MlflowArgs): Metric[] {
  return (args.objectList('metrics') ?? []).map((m, i) => {
    for (const f of ['key', 'value', 'timestamp'] as const) {
      if (m[f] === undefined || m[f] === null || m[f] === '') throw missingValue(`metrics[${i}].${f}`);
    }
    // Types and ranges are checked by the service, which rejects the whole batch on any bad entry.
    return { key: m.key, value: m.value, timestamp: m.timestamp, step: m.step ?? 0 } as Metric;
  });
}

function batchKeyValues(args: MlflowArgs, field: 'params' | 'tags'): { key: string; value: string }[] {
  return (args.objectList(field) ?? []).map((p, i) => {
    if (p.key === undefined || p.key === null || p.key === '') throw missingValue(`${field}[${i}].key`);
    // An unset proto string reads as "", as MLflow's Param.from_proto / RunTag.from_proto.
    return { key: p.key, value: p.value ?? '' } as { key: string; value: string };
  });
}

const ENDPOINTS: Endpoint[] = [
  // ------------------------------------------------------------ experiments
  {
    methods: ['POST'],
    path: '/experiments/create',
    handler: async (a, { tracking }) => {
      const e = await tracking.createExperiment({ name: a.requiredString('name'), artifactLocation: a.string('artifact_location') || undefined, tags: a.tags() });
      return { experiment_id: e.experimentId };
    },
  },
  {
    methods: ['GET'],
    path: '/experiments/get',
    handler: async (a, { tracking }) => ({ experiment: experimentToJson(await tracking.getExperiment(a.experimentId()!)) }),
  },
  {
    methods: ['GET'],
    path: '/experiments/get-by-name',
    handler: async (a, { tracking }) => ({ experiment: experimentToJson(await tracking.getExperimentByName(a.requiredString('experiment_name'))) }),
  },
  {
    methods: ['GET', 'POST'],
    path: '/experiments/search',
    handler: async (a, { tracking }) => {
      const res = await tracking.searchExperiments({
        maxResults: a.int('max_results'),
        pageToken: a.string('page_token') || undefined,
        filter: a.string('filter'),
        orderBy: a.stringList('order_by'),
        viewType: a.viewType('view_type'),
      });
      return page('experiments', res.items.map(experimentToJson), res.nextPageToken);
    },
  },
  {
    methods: ['POST'],
    path: '/experiments/delete',
    handler: async (a, { tracking }) => (await tracking.deleteExperiment(a.experimentId()!), EMPTY),
  },
  {
    methods: ['POST'],
    path: '/experiments/restore',
    handler: async (a, { tracking }) => (await tracking.restoreExperiment(a.experimentId()!), EMPTY),
  },
  {
    methods: ['POST'],
    path: '/experiments/update',
    handler: async (a, { tracking }) => (await tracking.renameExperiment(a.experimentId()!, a.requiredString('new_name')), EMPTY),
  },
  {
    methods: ['POST'],
    path: '/experiments/set-experiment-tag',
    handler: async (a, { tracking }) => (await tracking.setExperimentTag(a.experimentId()!, a.requiredString('key'), a.string('value') ?? ''), EMPTY),
  },
  {
    methods: ['POST'],
    path: '/experiments/delete-experiment-tag',
    handler: async (a, { tracking }) => (await tracking.deleteExperimentTag(a.experimentId()!, a.requiredString('key')), EMPTY),
  },

  // ------------------------------------------------------------------- runs
  {
    methods: ['POST'],
    path: '/runs/create',
    handler: async (a, { tracking }) => {
      const run = await tracking.createRun({
        experimentId: a.experimentId('experiment_id', false) ?? '0',
        userId: a.string('user_id'),
        runName: a.string('run_name') || undefined,
        startTime: a.int('start_time'),
        tags: a.tags(),
      });
      return { run: runToJson(run) };
    },
  },
  {
    methods: ['POST'],
    path: '/runs/update',
    handler: async (a, { tracking }) => {
      const info = await tracking.updateRun(a.runId(), { status: a.runStatus('status'), endTime: a.int('end_time'), runName: a.string('run_name') || undefined });
      return { run_info: runInfoToJson(info) };
    },
  },
  {
    methods: ['POST'],
    path: '/runs/delete',
    handler: async (a, { tracking }) => (await tracking.deleteRun(a.runId()), EMPTY),
  },
  {
    methods: ['POST'],
    path: '/runs/restore',
    handler: async (a, { tracking }) => (await tracking.restoreRun(a.runId()), EMPTY),
  },
  {
    methods: ['POST'],
    path: '/runs/log-metric',
    handler: async (a, { tracking }) => {
      const runId = a.runId();
      const key = a.requiredString('key');
      if (!a.has('value')) throw missingValue('value');
      await tracking.logMetric(runId, { key, value: a.value('value') as number, timestamp: a.requiredInt('timestamp'), step: a.int('step') ?? 0 });
      return EMPTY;
    },
  },
  {
    methods: ['POST'],
    path: '/runs/log-parameter',
    handler: async (a, { tracking }) => {
      const runId = a.runId();
      // MLflow stringifies param values client-side; a number sent by hand is kept as its text.
      const value = a.value('value');
      await tracking.logParam(runId, a.requiredString('key'), (typeof value === 'number' ? String(value) : a.string('value')) ?? '');
      return EMPTY;
    },
  },
  {
    methods: ['POST'],
    path: '/runs/set-tag',
    handler: async (a, { tracking }) => (await tracking.setTag(a.runId(), a.requiredString('key'), a.string('value') ?? ''), EMPTY),
  },
  {
    methods: ['POST'],
    path: '/runs/delete-tag',
    handler: async (a, { tracking }) => (await tracking.deleteTag(a.runId(), a.requiredString('key')), EMPTY),
  },
  {
    methods: ['POST'],
    path: '/runs/log-batch',
    bodyLimit: LIMITS.maxBatchRequestBytes,
    handler: async (a, { tracking }) => {
      const runId = a.runId();
      await tracking.logBatch(runId, { metrics: batchMetrics(a), params: batchKeyValues(a, 'params'), tags: batchKeyValues(a, 'tags') });
      return EMPTY;
    },
  },
  {
    methods: ['GET'],
    path: '/runs/get',
    handler: async (a, { tracking }) => ({ run: runToJson(await tracking.getRun(a.runId())) }),
  },
  {
    methods: ['POST'],
    path: '/runs/search',
    handler: async (a, { tracking }) => {
      const res = await tracking.searchRuns({
        experimentIds: a.stringList('experiment_ids', { numbersAsStrings: true }) ?? [],
        filter: a.string('filter'),
        viewType: a.viewType('run_view_type'),
        maxResults: a.int('max_results'),
        orderBy: a.stringList('order_by'),
        pageToken: a.string('page_token') || undefined,
      });
      return page('runs', res.items.map(runToJson), res.nextPageToken);
    },
  },
  {
    methods: ['POST'],
    path: '/runs/log-inputs',
    handler: async (a, { tracking }) => {
      // Dataset and model inputs are accepted but not stored yet: the run must exist and be active.
      const runId = a.runId();
      a.objectList('datasets');
      a.objectList('models');
      const run = await tracking.getRun(runId);
      if (run.info.lifecycleStage !== 'active') {
        throw new FlywheelError('FW_INVALID_STATE', `The run ${runId} must be in the 'active' state. Current state is ${run.info.lifecycleStage}.`);
      }
      return EMPTY;
    },
  },

  // ------------------------------------------------------ metrics, artifacts
  {
    methods: ['GET'],
    path: '/metrics/get-history',
    handler: async (a, { tracking }) => {
      const runId = a.runId();
      const res = await tracking.getMetricHistory(runId, a.requiredString('metric_key'), { maxResults: a.int('max_results'), pageToken: a.string('page_token') || undefined });
      return page('metrics', res.items.map(metricToJson), res.nextPageToken);
    },
  },
  {
    methods: ['GET'],
    path: '/artifacts/list',
    handler: async (a, { tracking }) => {
      const runId = a.runId();
      const dir = a.string('path') ?? '';
      const run = await tracking.getRun(runId);
      const files = await tracking.listRunArtifacts(runId, dir);
      return page('files', files.map(fileInfoToJson), null, { root_uri: run.info.artifactUri });
    },
  },
];

function argsOf(request: FastifyRequest): MlflowArgs {
  return MlflowArgs.from(request);
}

export const mlflowTrackingRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  for (const prefix of MLFLOW_API_PREFIXES) {
    for (const ep of ENDPOINTS) {
      app.route({
        method: ep.methods,
        url: `${prefix}${ep.path}`,
        ...(ep.bodyLimit ? { bodyLimit: ep.bodyLimit } : {}),
        schema: { hide: true },
        handler: async (request) => ep.handler(argsOf(request), ctx),
      });
    }
  }
};
