/**
 * Wire shapes of the data API (/api/v1/datasets…): TypeBox schemas that
 * validate requests, serialize responses and feed the OpenAPI document. They
 * mirror the domain types in types.ts and service.ts field for field.
 */
import { Type, type Static, type TSchema } from '@fastify/type-provider-typebox';
import { DATASET_NAME_PATTERN } from './names.js';

const Millis = (description: string) => Type.Integer({ description: `${description} (epoch milliseconds)` });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const strict = { additionalProperties: false } as const;

export const ColumnSchemaSchema = Type.Object({
  name: Type.String(),
  type: Type.String({ description: 'DuckDB type, e.g. BIGINT, DOUBLE, VARCHAR, DATE, TIMESTAMP.' }),
  nullable: Type.Boolean({ description: 'True when the version holds a null in this column.' }),
});

export const DatasetSchema = Type.Object({
  name: Type.String(),
  description: Type.String(),
  createdTime: Millis('When the first version was added'),
  lifecycleStage: Type.Enum(['active', 'deleted'], { type: 'string' }),
  latestVersion: Nullable(Type.Integer()),
});

export const DatasetVersionSchema = Type.Object({
  id: Type.String({ description: 'Version id (32 hex characters).' }),
  dataset: Type.String(),
  version: Type.Integer({ description: '1, 2, 3… per dataset.' }),
  contentHash: Type.String({ description: 'sha256 of the stored Parquet bytes.' }),
  schema: Type.Array(ColumnSchemaSchema),
  rowCount: Type.Integer(),
  byteSize: Type.Integer(),
  parentVersionId: Nullable(Type.String()),
  message: Type.String(),
  author: Type.String(),
  createdTime: Millis('When the version was made'),
  tags: Type.Record(Type.String(), Type.String()),
  storageKey: Type.String({ description: 'Artifact-store key of the Parquet blob.' }),
  runId: Nullable(Type.String()),
});

const Scalar = Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()]);

export const ColumnProfileSchema = Type.Object({
  name: Type.String(),
  type: Type.String(),
  kind: Type.Enum(['numeric', 'text', 'temporal', 'boolean', 'other'], { type: 'string' }),
  count: Type.Integer({ description: 'Non-null values.' }),
  nulls: Type.Integer(),
  distinct: Type.Integer(),
  distinctApproximate: Type.Boolean(),
  min: Scalar,
  max: Scalar,
  mean: Nullable(Type.Number()),
  std: Nullable(Type.Number({ description: 'Sample standard deviation (n − 1).' })),
  quantiles: Nullable(
    Type.Object({ p1: Type.Number(), p5: Type.Number(), p25: Type.Number(), p50: Type.Number(), p75: Type.Number(), p95: Type.Number(), p99: Type.Number() }, { description: 'Linear interpolation (NumPy default).' }),
  ),
  histogram: Nullable(Type.Array(Type.Object({ lower: Type.Number(), upper: Type.Number(), count: Type.Integer() }))),
  topValues: Nullable(Type.Array(Type.Object({ value: Type.String(), count: Type.Integer() }))),
  length: Nullable(Type.Object({ min: Type.Number(), mean: Type.Number(), max: Type.Number() })),
  dateRange: Nullable(Type.Object({ min: Type.String(), max: Type.String() })),
  pii: Type.Array(Type.Enum(['email', 'phone', 'payment_card', 'ip_address'], { type: 'string' })),
});

export const DatasetProfileSchema = Type.Object({
  rowCount: Type.Integer(),
  columns: Type.Array(ColumnProfileSchema),
  exactDistinctBound: Type.Integer(),
  piiSampleSize: Type.Integer(),
  sampled: Type.Optional(Type.Boolean({ description: 'Quantiles, histograms and top values come from a sample of the rows (their counts are within the sample).' })),
  sampleRows: Type.Optional(Type.Integer({ description: 'Rows in that sample.' })),
});

export const HeadSchema = Type.Object({
  version: DatasetVersionSchema,
  columns: Type.Array(ColumnSchemaSchema),
  rows: Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'JSON values; 64-bit integers beyond 2^53 are strings, dates and timestamps text.' }),
});

export const AddResultSchema = Type.Object({
  version: DatasetVersionSchema,
  created: Type.Boolean({ description: 'False when skipUnchanged found the content unchanged.' }),
  unchanged: Nullable(Type.Enum(['fingerprint', 'content'], { type: 'string' })),
  quarantine: Nullable(Type.Object({ version: DatasetVersionSchema, rows: Type.Integer() })),
});

// ------------------------------------------------------------------ requests

export const NameParams = Type.Object({ name: Type.String({ pattern: DATASET_NAME_PATTERN.source, description: 'Dataset name.' }) });
export const RefParams = Type.Object({ ref: Type.String({ description: 'NAME, NAME@3, NAME@latest or NAME@<hash prefix> (URL-encoded).' }) });

export const ListQuery = Type.Object({ includeDeleted: Type.Optional(Type.Boolean({ description: 'Include soft-deleted datasets.' })) }, strict);
export const HeadQuery = Type.Object({ n: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, description: 'Rows to return (default 10).' })) }, strict);
export const DownloadQuery = Type.Object({ format: Type.Optional(Type.Enum(['parquet', 'csv'], { type: 'string', description: 'Default parquet.' })) }, strict);

export const UploadQuery = Type.Object(
  {
    format: Type.Optional(Type.Enum(['csv', 'tsv', 'parquet', 'json', 'ndjson'], { type: 'string', description: 'Format of the body; default csv.' })),
    message: Type.Optional(Type.String()),
    author: Type.Optional(Type.String()),
    tag: Type.Optional(Type.Array(Type.String({ description: 'key=value' }), { description: 'Repeat for several tags.' })),
    skipUnchanged: Type.Optional(Type.Boolean({ description: 'Make no version when the content equals the latest version’s.' })),
    onBadRows: Type.Optional(Type.Enum(['fail', 'quarantine'], { type: 'string', description: 'Default fail.' })),
    allowSchemaChange: Type.Optional(Type.Boolean()),
  },
  strict,
);

export type WireAddResult = Static<typeof AddResultSchema>;
