/**
 * The wire shapes of Flywheel's own tracking API (/api/v1): TypeBox schemas
 * that validate requests, serialize responses and become the OpenAPI document.
 * Shapes are the camelCase domain types (types.ts), except that a metric's
 * value is a number or one of the strings "NaN", "Infinity", "-Infinity"
 * (v1-codec.ts maps them). Lists are `{items, nextPageToken}`; every failure
 * is `{error: {code, message}}`.
 */
import { Type, type Static, type TSchema } from '@fastify/type-provider-typebox';
import { ERROR_CODES, type ErrorCode } from '../core/errors.js';
import { RUN_STATUSES, VIEW_TYPES } from './types.js';
import { NON_FINITE_SPELLINGS } from './v1-codec.js';

// ------------------------------------------------------------------ building blocks

const StringMap = Type.Record(Type.String(), Type.String(), { description: 'Key → value; keys follow MLflow naming rules.' });
const Millis = (description: string) => Type.Integer({ description: `${description} (epoch milliseconds)` });

export const MetricValue = Type.Union([Type.Number(), Type.Enum(NON_FINITE_SPELLINGS, { type: 'string' })], {
  description:
    'A double. JSON cannot carry NaN or ±Infinity, so those are the strings "NaN", "Infinity" and "-Infinity"; every finite value is a JSON number.',
});

export const RunStatus = Type.Enum(RUN_STATUSES, { type: 'string', description: 'RUNNING until ended; FINISHED, FAILED and KILLED are terminal.' });
export const ViewType = Type.Enum(VIEW_TYPES, { type: 'string', description: 'Which lifecycle stages to include; default ACTIVE_ONLY.' });
const LifecycleStage = Type.Enum(['active', 'deleted'], { type: 'string' });
const PageToken = Type.String({ description: 'The nextPageToken of the previous page.' });

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.Enum(Object.keys(ERROR_CODES) as ErrorCode[], { type: 'string', description: 'Stable error code; the closed set is listed in src/core/errors.ts.' }),
      message: Type.String(),
      details: Type.Optional(Type.Object({}, { additionalProperties: true })),
    }),
  },
  { description: 'Every failure: a stable code and a human-readable message.' },
);

/** The documented error responses every route adds to its success responses. */
export function withErrors<R extends Record<number, unknown>>(responses: R) {
  return { ...responses, '4xx': ErrorBody, '5xx': ErrorBody };
}

export const Page = <T extends TSchema>(item: T, what: string) =>
  Type.Object({
    items: Type.Array(item),
    nextPageToken: Type.Union([Type.String(), Type.Null()], { description: `Pass as pageToken for the next page of ${what}; null on the last page.` }),
  });

export const NoContent = Type.Null({ description: 'No content.' });

// ------------------------------------------------------------------------ entities

export const ExperimentSchema = Type.Object({
  experimentId: Type.String(),
  name: Type.String(),
  artifactLocation: Type.String(),
  lifecycleStage: LifecycleStage,
  creationTime: Millis('When the experiment was created'),
  lastUpdateTime: Millis('Last rename, deletion or restore'),
  tags: StringMap,
});

export const RunInfoSchema = Type.Object({
  runId: Type.String({ description: '32 lowercase hex characters.' }),
  runName: Type.String(),
  experimentId: Type.String(),
  userId: Type.String(),
  status: RunStatus,
  startTime: Millis('Start'),
  endTime: Type.Union([Millis('End'), Type.Null()]),
  artifactUri: Type.String(),
  lifecycleStage: LifecycleStage,
  parentRunId: Type.Union([Type.String(), Type.Null()]),
});

export const MetricSchema = Type.Object({
  key: Type.String(),
  value: MetricValue,
  timestamp: Millis('When the value was measured'),
  step: Type.Integer(),
});

export const RunSchema = Type.Object({
  info: RunInfoSchema,
  data: Type.Object({
    metrics: Type.Array(MetricSchema, { description: 'The latest point of each metric (greatest step, then timestamp, then value).' }),
    params: StringMap,
    tags: StringMap,
  }),
});

export const ArtifactEntrySchema = Type.Object({
  path: Type.String({ description: "Relative to the run's artifact root." }),
  isDir: Type.Boolean(),
  size: Type.Integer({ description: 'Bytes; 0 for directories.' }),
});

export const EventSchema = Type.Object({
  eventId: Type.Integer(),
  time: Millis('When it happened'),
  actor: Type.String(),
  kind: Type.String({ description: 'For example run.created, experiment.deleted.' }),
  entityType: Type.String(),
  entityId: Type.String(),
  payload: Type.Object({}, { additionalProperties: true }),
});

// ------------------------------------------------------------------------ requests

export const ExperimentIdParams = Type.Object({ id: Type.String({ description: 'Experiment id.' }) });
export const ExperimentNameParams = Type.Object({ name: Type.String({ description: 'Experiment name (URL-encoded).' }) });
export const RunIdParams = Type.Object({ id: Type.String({ description: 'Run id.' }) });
export const MetricKeyParams = Type.Object({ id: Type.String({ description: 'Run id.' }), key: Type.String({ description: 'Metric key (URL-encoded; may contain "/").' }) });
export const RunTagParams = Type.Object({ id: Type.String({ description: 'Run id.' }), key: Type.String({ description: 'Tag key (URL-encoded).' }) });
export const ArtifactParams = Type.Object({
  id: Type.String({ description: 'Run id.' }),
  '*': Type.String({ description: "Artifact path relative to the run's artifact root." }),
});

const strict = { additionalProperties: false } as const;

export const SearchExperimentsQuery = Type.Object(
  {
    filter: Type.Optional(Type.String({ description: "MLflow filter syntax, for example name LIKE 'churn%'." })),
    orderBy: Type.Optional(Type.Array(Type.String(), { description: 'Repeat for several clauses, for example orderBy=name ASC.' })),
    maxResults: Type.Optional(Type.Integer({ minimum: 1, description: 'Default 1000, at most 50000.' })),
    pageToken: Type.Optional(PageToken),
    viewType: Type.Optional(ViewType),
  },
  strict,
);

export const CreateExperimentBody = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    artifactLocation: Type.Optional(Type.String({ description: 'Default mlflow-artifacts:/<experimentId>, served by this server.' })),
    tags: Type.Optional(StringMap),
  },
  strict,
);

export const UpdateExperimentBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, description: 'A new name.' })),
    tags: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Tags to set (others are kept).' })),
  },
  strict,
);

export const CreateRunBody = Type.Object(
  {
    experimentId: Type.String(),
    runName: Type.Optional(Type.String({ description: 'Default: a generated name.' })),
    userId: Type.Optional(Type.String()),
    startTime: Type.Optional(Millis('Default now')),
    tags: Type.Optional(StringMap),
    parentRunId: Type.Optional(Type.String({ description: 'Makes this a nested run.' })),
  },
  strict,
);

export const UpdateRunBody = Type.Object(
  {
    status: Type.Optional(RunStatus),
    endTime: Type.Optional(Millis('End; defaults to now when a terminal status is set')),
    runName: Type.Optional(Type.String()),
  },
  strict,
);

const KeyValue = Type.Object({ key: Type.String(), value: Type.String() }, strict);

export const LogBatchBody = Type.Object(
  {
    metrics: Type.Optional(
      Type.Array(
        Type.Object(
          {
            key: Type.String(),
            value: MetricValue,
            timestamp: Type.Optional(Millis('Default now')),
            step: Type.Optional(Type.Integer({ description: 'Default 0.' })),
          },
          strict,
        ),
        { description: 'At most 1000 metrics.' },
      ),
    ),
    params: Type.Optional(Type.Array(KeyValue, { description: 'At most 100 params; a param never changes once logged.' })),
    tags: Type.Optional(Type.Array(KeyValue, { description: 'At most 100 tags; setting a tag again overwrites it.' })),
  },
  { ...strict, description: 'Written in one transaction: all of it or nothing. At most 1000 entries in total.' },
);

export const MetricHistoryQuery = Type.Object(
  {
    maxResults: Type.Optional(Type.Integer({ minimum: 1, description: 'Page size, at most 25000; all points when absent.' })),
    pageToken: Type.Optional(PageToken),
  },
  strict,
);

export const SearchRunsBody = Type.Object(
  {
    experimentIds: Type.Array(Type.String()),
    filter: Type.Optional(Type.String({ description: "MLflow filter syntax, for example metrics.rmse < 1 and params.model = 'tree'." })),
    orderBy: Type.Optional(Type.Array(Type.String())),
    maxResults: Type.Optional(Type.Integer({ minimum: 1, description: 'Default 1000, at most 50000.' })),
    pageToken: Type.Optional(PageToken),
    viewType: Type.Optional(ViewType),
  },
  strict,
);

export const ListArtifactsQuery = Type.Object(
  { path: Type.Optional(Type.String({ description: 'Directory to list; the root when absent.' })) },
  strict,
);

export const ListEventsQuery = Type.Object(
  {
    entityType: Type.Optional(Type.String({ description: 'experiment, run, …' })),
    entityId: Type.Optional(Type.String()),
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'Only events with a greater eventId (to tail the log).' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Default 1000.' })),
  },
  strict,
);

/** A binary body or response, as OpenAPI describes one. */
export const Binary = { type: 'string', format: 'binary' } as const;

// ---------------------------------------------------------------------- wire types

export type WireMetric = Static<typeof MetricSchema>;
export type WireRun = Static<typeof RunSchema>;
