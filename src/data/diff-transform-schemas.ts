/**
 * Wire shapes of `GET /api/v1/datasets/diff` and `POST /api/v1/datasets/transform`:
 * TypeBox schemas that validate the query and body, serialize the responses
 * and feed the OpenAPI document. They mirror DatasetDiff (diff.ts) and
 * TransformResult (transform.ts) field for field: a field missing here would
 * be dropped from the response.
 */
import { Type, type TSchema } from '@fastify/type-provider-typebox';
import { DIFF_STATS, MAX_DIFF_SAMPLE } from './diff.js';
import { ColumnSchemaSchema, DatasetVersionSchema } from './schemas.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const strict = { additionalProperties: false } as const;
const Scalar = Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()]);
const Row = Type.Record(Type.String(), Type.Unknown(), { description: 'A row: JSON values, dates and timestamps as text, 64-bit integers beyond 2^53 as strings.' });

// ------------------------------------------------------------------ diff

export const DiffQuery = Type.Object(
  {
    a: Type.String({ minLength: 1, description: 'The reference version: NAME, NAME@3, NAME@latest or NAME@<hash prefix>.' }),
    b: Type.String({ minLength: 1, description: 'The version compared with it.' }),
    key: Type.Optional(Type.String({ description: 'Key columns, comma-separated (e.g. `id` or `id,day`): adds the counts of added, removed and changed rows.' })),
    sample: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_DIFF_SAMPLE, description: 'Rows shown per kind of row change (default 5).' })),
  },
  strict,
);

const DiffSideSchema = Type.Object({
  ref: Type.String({ description: 'The ref as given.' }),
  id: Type.String(),
  dataset: Type.String(),
  version: Type.Integer(),
  contentHash: Type.String(),
  rowCount: Type.Integer(),
});

const StatChangeSchema = Type.Object({
  a: Scalar,
  b: Scalar,
  delta: Nullable(Type.Number({ description: 'b − a when both are numbers.' })),
});

const ColumnDiffSchema = Type.Object({
  name: Type.String(),
  typeA: Type.String(),
  typeB: Type.String(),
  stats: Type.Object(Object.fromEntries(DIFF_STATS.map((s) => [s, StatChangeSchema]))),
  drift: Nullable(
    Type.Object(
      {
        method: Type.Enum(['psi_deciles', 'psi_categories'], { type: 'string', description: 'Deciles of A for numeric and temporal columns; one bin per category for text and booleans.' }),
        psi: Nullable(Type.Number({ description: 'Population stability index; null when a side has no values.' })),
      },
      { description: 'Null when the column’s kind changed or cannot be binned.' },
    ),
  ),
});

const RowDiffSchema = Type.Object({
  key: Type.Array(Type.String()),
  compared: Type.Array(Type.String(), { description: 'Columns compared on matched rows: those in both versions, key excluded.' }),
  added: Type.Integer(),
  removed: Type.Integer(),
  changed: Type.Integer(),
  unchanged: Type.Integer(),
  changedByColumn: Type.Record(Type.String(), Type.Integer()),
  samples: Type.Object({
    added: Type.Array(Row),
    removed: Type.Array(Row),
    changed: Type.Array(
      Type.Object({
        key: Row,
        changes: Type.Record(Type.String(), Type.Object({ a: Type.Unknown(), b: Type.Unknown() }), { description: 'Only the columns that differ.' }),
      }),
    ),
  }),
});

export const DatasetDiffSchema = Type.Object({
  a: DiffSideSchema,
  b: DiffSideSchema,
  sameContent: Type.Boolean({ description: 'Same stored content (hash).' }),
  rowCount: Type.Object({ a: Type.Integer(), b: Type.Integer(), delta: Type.Integer() }),
  schema: Type.Object({
    added: Type.Array(ColumnSchemaSchema),
    removed: Type.Array(ColumnSchemaSchema),
    retyped: Type.Array(Type.Object({ name: Type.String(), from: Type.String(), to: Type.String() })),
  }),
  columns: Type.Array(ColumnDiffSchema, { description: 'Columns present in both versions, in B’s order.' }),
  rows: Nullable(RowDiffSchema),
});

// ------------------------------------------------------------------ transform

export const TransformBody = Type.Object(
  {
    sql: Type.String({ description: "One SELECT; read datasets with {{ ref('NAME') }} or {{ ref('NAME@VERSION') }}." }),
    into: Type.String({ description: 'The dataset that receives the result as a new version.' }),
    message: Type.Optional(Type.String({ description: 'Message of the new version (default "transform <name>").' })),
    name: Type.Optional(Type.String({ minLength: 1, description: 'What messages and the run call the SQL, e.g. its file name (default "SQL").' })),
    params: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Extra params to record on the run.' })),
  },
  strict,
);

export const TransformResultSchema = Type.Object({
  version: DatasetVersionSchema,
  runId: Type.String({ description: 'The tracking run that recorded the transform (experiment "transforms").' }),
  inputs: Type.Array(Type.Object({ ref: Type.String({ description: 'The ref as written in the SQL.' }), version: DatasetVersionSchema })),
  sqlSha256: Type.String(),
});
