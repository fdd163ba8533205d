/**
 * Wire shapes of the quality API (/api/v1): TypeBox schemas for requests,
 * responses and the OpenAPI document. The suite in a request is checked
 * loosely here (an object with checks) and exactly by parseSuite, whose
 * messages name the check and field.
 */
import { Type } from '@fastify/type-provider-typebox';
import { AddResultSchema, DatasetVersionSchema, UploadQuery } from '../data/schemas.js';
import { CHECK_TYPES } from './suite.js';
import { SUITE_NAME_PATTERN } from './registry.js';

const Json = Type.Unknown();
const AnyObject = Type.Record(Type.String(), Json);

export const RefParams = Type.Object({
  ref: Type.String({ description: 'Dataset version: NAME, NAME@3, NAME@latest or NAME@<hash prefix>.' }),
});

export const SuiteBody = Type.Object(
  {
    name: Type.String({ description: 'Suite name.' }),
    dataset: Type.String({ description: 'The dataset the suite is bound to; must be the ref\'s dataset.' }),
    description: Type.Optional(Type.String()),
    checks: Type.Array(
      Type.Object(
        { type: Type.String({ description: `One of ${CHECK_TYPES.join(', ')}.` }) },
        { additionalProperties: true, description: 'A check: its type, fields, and optional name, severity (warn|error) and mostly (0…1).' },
      ),
    ),
  },
  { additionalProperties: true, description: 'A quality suite, as in a suite YAML file.' },
);

export const ValidateBody = Type.Object({
  suite: Type.Union([SuiteBody, Type.String({ description: 'The name of a registered suite (PUT /suites/:name).' })], {
    description: 'The suite as JSON (same keys as YAML), or the name of a registered suite.',
  }),
  now: Type.Optional(Type.String({ description: 'ISO 8601 time freshness checks measure from (default: now).' })),
  save: Type.Optional(Type.Boolean({ description: 'Store the result with the version (default true).' })),
});

export const CheckResultSchema = Type.Object({
  index: Type.Integer(),
  type: Type.String(),
  name: Type.String(),
  columns: Type.Array(Type.String()),
  severity: Type.Union([Type.Literal('warn'), Type.Literal('error')]),
  mostly: Type.Union([Type.Number(), Type.Null()]),
  success: Type.Boolean(),
  skipped: Type.Boolean(),
  observed: Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()], {
    description: 'Passing fraction for row checks; row count, column type, newest timestamp, mean/std, PSI or number of new categories for the others.',
  }),
  evaluatedCount: Type.Union([Type.Integer(), Type.Null()], { description: 'Rows judged (non-null ones for column checks).' }),
  unexpectedCount: Type.Union([Type.Integer(), Type.Null()]),
  unexpectedPercent: Type.Union([Type.Number(), Type.Null()], { description: '0…100 of evaluatedCount.' }),
  sampleFailingRows: Type.Array(AnyObject, { description: 'Up to 20 failing rows; BIGINT and DECIMAL values as strings.' }),
  message: Type.Optional(Type.String()),
  details: Type.Optional(AnyObject),
});

export const ValidationResultSchema = Type.Object({
  id: Type.String({ description: 'Stored result id; empty when not saved.' }),
  suite: Type.String(),
  suiteHash: Type.String({ description: 'sha256 of the normalized suite.' }),
  dataset: Type.String(),
  versionId: Type.Union([Type.String(), Type.Null()]),
  time: Type.Integer({ description: 'When it ran (epoch milliseconds).' }),
  success: Type.Boolean({ description: 'False when an error-severity check failed.' }),
  statistics: Type.Object({
    checks: Type.Integer(),
    passed: Type.Integer(),
    failed: Type.Integer(),
    errors: Type.Integer(),
    warnings: Type.Integer(),
  }),
  checks: Type.Array(CheckResultSchema),
});

export const ValidationList = Type.Object({ items: Type.Array(ValidationResultSchema, { description: 'Newest first.' }) });

// ------------------------------------------------------------------ the suite registry

export const SuiteNameParams = Type.Object({ name: Type.String({ pattern: SUITE_NAME_PATTERN.source, description: 'Suite name.' }) });

export const PutSuiteBody = Type.Object(
  { ...SuiteBody.properties, name: Type.Optional(Type.String({ description: 'Suite name; when given it must equal the name in the URL.' })) },
  { additionalProperties: true, description: 'A quality suite, as in a suite YAML file; checked exactly by the suite parser.' },
);

export const RegisteredSuiteSchema = Type.Object({
  name: Type.String(),
  dataset: Type.String({ description: 'The dataset the suite is bound to.' }),
  definition: Type.Object(
    {
      name: Type.String(),
      dataset: Type.String(),
      description: Type.Optional(Type.String()),
      checks: Type.Array(Type.Object({ type: Type.String(), name: Type.Optional(Type.String()) }, { additionalProperties: true })),
    },
    { additionalProperties: true, description: 'The normalized suite: every check with its name, severity and (for row checks) mostly filled in.' },
  ),
  hash: Type.String({ description: 'sha256 of the normalized suite.' }),
  createdTime: Type.Integer({ description: 'Epoch milliseconds.' }),
  updatedTime: Type.Integer({ description: 'When the definition last changed (epoch milliseconds).' }),
});

export const PutSuiteResultSchema = Type.Object({
  ...RegisteredSuiteSchema.properties,
  change: Type.Enum(['created', 'updated', 'unchanged'], { type: 'string', description: 'unchanged when the same definition was registered already.' }),
});

export const SuiteList = Type.Object({ items: Type.Array(RegisteredSuiteSchema, { description: 'By name.' }) });

export const ListSuitesQuery = Type.Object({ dataset: Type.Optional(Type.String({ description: 'Only suites bound to this dataset.' })) }, { additionalProperties: false });

// ------------------------------------------------------------------ validated upload

export const ValidatedUploadQuery = Type.Object(
  {
    ...UploadQuery.properties,
    suite: Type.String({ pattern: SUITE_NAME_PATTERN.source, description: 'The registered suite that checks the data before it is committed.' }),
    quarantine: Type.Optional(Type.Boolean({ description: 'Set rows failing row-level error checks aside as NAME__quarantine instead of refusing the upload.' })),
  },
  { additionalProperties: false },
);

export const ValidatedAddSchema = Type.Object({
  ...AddResultSchema.properties,
  setAside: Type.Optional(
    Type.Object(
      { version: DatasetVersionSchema, rows: Type.Integer(), reason: Type.String() },
      { description: 'Rows the suite set aside (quarantine=true) as a version of NAME__quarantine; absent when none were.' },
    ),
  ),
  validation: Type.Union([ValidationResultSchema, Type.Null()], { description: 'The result stored with the new version; null when no version was made (skipUnchanged).' }),
});
