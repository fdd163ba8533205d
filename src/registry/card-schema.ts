/**
 * Wire shape of a model card (GET /api/v1/models/{name}/versions/{version}/card):
 * the TypeBox schema that serializes the response and documents it in
 * OpenAPI. It mirrors `ModelCard` in card.ts; the free-form parts (signature,
 * preprocessing, metrics, slices, fairness) are open objects, since they are
 * whatever the package and the evaluation report hold.
 */
import { Type, type TSchema } from '@fastify/type-provider-typebox';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Open = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description });
const NumberOrText = Type.Union([Type.Number(), Type.String()], { description: 'NaN and ±Infinity are sent as text, as MLflow does' });

export const CardQuery = Type.Object({
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('markdown')], { description: 'markdown: the card as text/markdown' })),
});

export const CardParams = Type.Object({
  name: Type.String({ minLength: 1 }),
  version: Type.String({ minLength: 1, description: 'A version number, or @alias' }),
});

export const ModelCardSchema = Type.Object({
  name: Type.String(),
  version: Type.Integer(),
  aliases: Type.Array(Type.String()),
  stage: Type.String(),
  tags: Type.Record(Type.String(), Type.String()),
  createdTime: Type.Integer(),
  source: Type.String(),
  runId: Nullable(Type.String()),
  intendedUse: Type.Object({ model: Type.String({ description: "The registered model's description" }), version: Type.String({ description: "The version's description" }) }),
  package: Nullable(
    Type.Object({
      flavor: Nullable(Type.String()),
      task: Nullable(Type.String()),
      classes: Nullable(Type.Array(Type.String())),
      signature: Type.Unknown(),
      preprocessing: Nullable(Type.Object({ summary: Type.Array(Type.String()), raw: Type.Unknown() })),
      libraries: Nullable(Type.Record(Type.String(), Type.String())),
    }),
  ),
  trainingData: Nullable(
    Type.Object({
      dataset: Type.String({ description: 'NAME@VERSION' }),
      versionId: Type.String(),
      target: Nullable(Type.String()),
      rows: Type.Integer(),
      columns: Type.Array(Type.Object({ name: Type.String(), type: Type.String(), nulls: Nullable(Type.Integer()) })),
    }),
  ),
  training: Nullable(
    Type.Object({
      runId: Type.String(),
      runName: Type.String(),
      status: Type.String(),
      params: Type.Record(Type.String(), Type.String()),
      metrics: Type.Record(Type.String(), NumberOrText),
    }),
  ),
  evaluation: Type.Object(
    {
      status: Type.Union([Type.Literal('evaluated'), Type.Literal('not evaluated yet')]),
      dataset: Type.Optional(Type.String()),
      rows: Type.Optional(Type.Integer()),
      runId: Type.Optional(Nullable(Type.String())),
      createdTime: Type.Optional(Nullable(Type.Integer())),
      metrics: Type.Optional(Open('The evaluation report metrics')),
      slices: Type.Optional(Open('Metrics per slice column and value')),
      fairness: Type.Optional(Open('Fairness metrics for the sensitive attribute')),
      latency: Type.Optional(Nullable(Type.Object({ p50_ms: Type.Number(), p99_ms: Type.Number() }))),
    },
    { description: 'The latest recorded evaluation of the version' },
  ),
  featureImportance: Nullable(
    Type.Object({
      source: Type.Union([Type.Literal('training'), Type.Literal('evaluation')]),
      features: Type.Array(Type.Object({ feature: Type.String(), importance: NumberOrText })),
    }),
  ),
  lineage: Type.Object({
    nodes: Type.Array(
      Type.Object({ type: Type.String(), id: Type.String(), label: Type.String(), detail: Type.String(), source: Type.Optional(Type.Boolean()) }),
    ),
    edges: Type.Array(Type.Object({ from: Type.String(), relation: Type.String(), to: Type.String() })),
    sources: Type.Array(Type.String({ description: 'Dataset versions no run produced: the raw data' })),
  }),
  generatedTime: Type.Integer(),
});
