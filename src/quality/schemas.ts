/**
 * Wire shapes of the quality API (/api/v1): TypeBox schemas for requests,
 * responses and the OpenAPI document. The suite in a request is checked
 * loosely here (an object with checks) and exactly by parseSuite, whose
 * messages name the check and field.
 */
import { Type } from '@fastify/type-provider-typebox';
import { CHECK_TYPES } from './suite.js';

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
  suite: SuiteBody,
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
