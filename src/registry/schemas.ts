/**
 * Wire shapes of Flywheel's registry API (/api/v1/models…): TypeBox schemas
 * that validate requests, serialize responses and feed the OpenAPI document.
 * They mirror the domain types in types.ts field for field.
 */
import { Type, type TSchema } from '@fastify/type-provider-typebox';
import { STAGES } from './types.js';

const Millis = (description: string) => Type.Integer({ description: `${description} (epoch milliseconds)` });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const StringMap = Type.Record(Type.String(), Type.String());
const strict = { additionalProperties: false } as const;

export const Stage = Type.Enum(STAGES, { type: 'string', description: "MLflow's legacy stage." });

export const ModelVersionSchema = Type.Object({
  id: Type.String({ description: 'Stable id of the version (32 hex characters); its node id in the lineage graph.' }),
  name: Type.String({ description: 'Registered model name.' }),
  version: Type.Integer({ description: '1, 2, 3… per registered model; never reused.' }),
  creationTime: Millis('When the version was registered'),
  lastUpdatedTime: Millis('Last change'),
  description: Type.String(),
  userId: Nullable(Type.String()),
  currentStage: Stage,
  source: Type.String({ description: 'The URI the version was registered from, e.g. runs:/<runId>/model.' }),
  storageLocation: Type.String({ description: "Where the files are (a runs:/ source resolved to the run's artifact URI)." }),
  runId: Nullable(Type.String()),
  runLink: Nullable(Type.String()),
  status: Type.Literal('READY'),
  tags: StringMap,
  aliases: Type.Array(Type.String(), { description: 'Aliases pointing at this version, sorted.' }),
  flavor: Nullable(Type.String({ description: 'From the package manifest: onnx, js, …' })),
  signature: Nullable(Type.Object({}, { additionalProperties: true, description: 'Input and output columns, from the package manifest.' })),
  task: Nullable(Type.String({ description: 'classification or regression, from the package manifest.' })),
});

export const RegisteredModelSchema = Type.Object({
  name: Type.String(),
  creationTime: Millis('When the model was registered'),
  lastUpdatedTime: Millis('Last change to the model or one of its versions'),
  description: Type.String(),
  tags: StringMap,
  aliases: Type.Record(Type.String(), Type.Integer(), { description: 'Alias → version number.' }),
  latestVersions: Type.Array(ModelVersionSchema, { description: 'The highest version in each stage that has one.' }),
});

export const RegisteredModelDetailSchema = Type.Object({
  ...RegisteredModelSchema.properties,
  versions: Type.Array(ModelVersionSchema, { description: 'Live versions, newest first.' }),
});

export const ModelPage = Type.Object({
  items: Type.Array(RegisteredModelSchema),
  nextPageToken: Nullable(Type.String({ description: 'Pass as pageToken for the next page; null on the last page.' })),
});

export const VersionPage = Type.Object({
  items: Type.Array(ModelVersionSchema),
  nextPageToken: Nullable(Type.String({ description: 'Pass as pageToken for the next page; null on the last page.' })),
});

export const AliasChangeSchema = Type.Object({
  name: Type.String(),
  alias: Type.String(),
  version: Type.Integer({ description: 'The version the alias points at (for a deletion: pointed at).' }),
  previousVersion: Nullable(Type.Integer({ description: 'The version it pointed at before; null when it is new.' })),
});

export const ResolvedModelSchema = Type.Object({
  uri: Type.String(),
  name: Nullable(Type.String()),
  version: Nullable(Type.Integer()),
  source: Type.String(),
  runId: Nullable(Type.String()),
  artifactPath: Nullable(Type.String({ description: "The package's path under the run's artifact root." })),
  packageUri: Nullable(Type.String({ description: 'runs:/<runId>/<artifactPath>, what loading a model takes.' })),
  modelVersion: Nullable(ModelVersionSchema),
});

// --------------------------------------------------------------------- requests

export const NameParams = Type.Object({ name: Type.String({ minLength: 1, description: 'Registered model name (URL-encoded).' }) });
export const VersionParams = Type.Object({ name: Type.String({ minLength: 1 }), version: Type.Integer({ minimum: 1 }) });
export const AliasParams = Type.Object({ name: Type.String({ minLength: 1 }), alias: Type.String({ minLength: 1 }) });

const SearchFields = {
  orderBy: Type.Optional(Type.Array(Type.String(), { description: 'Repeat for several clauses, for example orderBy=name ASC.' })),
  pageToken: Type.Optional(Type.String({ description: 'The nextPageToken of the previous page.' })),
};

export const SearchModelsQuery = Type.Object(
  {
    filter: Type.Optional(Type.String({ description: "MLflow filter syntax on name and tags, for example name LIKE 'churn%'." })),
    maxResults: Type.Optional(Type.Integer({ minimum: 1, description: 'Default 100, at most 1000.' })),
    ...SearchFields,
  },
  strict,
);

export const SearchVersionsQuery = Type.Object(
  {
    filter: Type.Optional(Type.String({ description: "MLflow filter syntax on name, run_id, source_path, version_number and tags, for example run_id = '…'." })),
    maxResults: Type.Optional(Type.Integer({ minimum: 1, description: 'Default 10000, at most 200000.' })),
    ...SearchFields,
  },
  strict,
);

export const CreateModelBody = Type.Object(
  { name: Type.String({ minLength: 1 }), description: Type.Optional(Type.String()), tags: Type.Optional(StringMap) },
  strict,
);

export const UpdateModelBody = Type.Object(
  { description: Type.Optional(Type.String()), newName: Type.Optional(Type.String({ minLength: 1, description: 'Renames the model.' })) },
  strict,
);

export const CreateVersionBody = Type.Object(
  {
    source: Type.Optional(Type.String({ minLength: 1, description: 'runs:/<runId>/<path> (or any model URI); give this or runId.' })),
    runId: Type.Optional(Type.String({ minLength: 1, description: 'Instead of source: the package at runs:/<runId>/model.' })),
    description: Type.Optional(Type.String()),
    tags: Type.Optional(StringMap),
  },
  strict,
);

export const TransitionBody = Type.Object(
  {
    stage: Type.String({ description: `One of ${STAGES.join(', ')} (any case).` }),
    archiveExistingVersions: Type.Optional(Type.Boolean({ description: "Move the model's other versions in that stage to Archived (Staging and Production only)." })),
  },
  strict,
);

export const SetAliasBody = Type.Object({ version: Type.Integer({ minimum: 1 }) }, strict);

export const ResolveQuery = Type.Object(
  { uri: Type.String({ minLength: 1, description: 'models:/NAME/VERSION, models:/NAME/STAGE, models:/NAME/latest, models:/NAME@ALIAS, NAME@ALIAS or runs:/RUN_ID/PATH.' }) },
  strict,
);
