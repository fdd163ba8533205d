/**
 * The lineage API under /api/v1: `GET /lineage` walks the graph upstream
 * (where a node's data came from) or downstream (what was made from it) from
 * a node given as `type` + `id`, or as a dataset `ref` (NAME@3), and returns
 * every node reached with a readable label, and the edges between them.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { invalidArgument } from '../core/errors.js';
import type { AppContext } from '../server/context.js';
import { withErrors } from '../tracking/v1-schemas.js';
import { DEFAULT_MAX_DEPTH, lineageGraph, NODE_TYPES, startNode } from './graph.js';
import type { LineageNode } from './service.js';

const NodeType = Type.Enum(NODE_TYPES, { type: 'string', description: 'run, dataset_version, model_version or deployment.' });
const NodeRef = Type.Object({ type: NodeType, id: Type.String() });

export const LabelledNodeSchema = Type.Object({
  type: NodeType,
  id: Type.String({ description: 'Run id, or DatasetVersion.id for dataset versions.' }),
  label: Type.String({ description: 'Readable name: NAME@N for dataset versions, "run <name> (<id prefix>)" for runs.' }),
  dataset: Type.Optional(Type.String()),
  version: Type.Optional(Type.Integer()),
  runName: Type.Optional(Type.String()),
  status: Type.Optional(Type.String({ description: 'Run status.' })),
  missing: Type.Optional(Type.Boolean({ description: 'The node’s record no longer exists; only its id is known.' })),
});

export const LineageEdgeSchema = Type.Object({
  from: NodeRef,
  relation: Type.Enum(['consumes', 'produces', 'serves'], { type: 'string', description: 'run —consumes→ input, run —produces→ output, deployment —serves→ model version.' }),
  to: NodeRef,
});

export const LineageGraphSchema = Type.Object({
  root: LabelledNodeSchema,
  direction: Type.Enum(['upstream', 'downstream'], { type: 'string' }),
  nodes: Type.Array(LabelledNodeSchema, { description: 'Every node reached, the root first.' }),
  edges: Type.Array(LineageEdgeSchema),
});

export const LineageQuery = Type.Object(
  {
    type: Type.Optional(NodeType),
    id: Type.Optional(Type.String({ minLength: 1, description: 'With type: the start node’s id.' })),
    ref: Type.Optional(Type.String({ minLength: 1, description: 'Instead of type and id: a dataset version ref (NAME, NAME@3, NAME@latest, NAME@<hash prefix>).' })),
    direction: Type.Optional(Type.Enum(['upstream', 'downstream'], { type: 'string', description: 'Default upstream.' })),
    maxDepth: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: `Edges to follow from the start at most (default ${DEFAULT_MAX_DEPTH}).` })),
  },
  { additionalProperties: false },
);

export const lineageRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/lineage',
    {
      schema: {
        tags: ['lineage'],
        operationId: 'getLineage',
        summary: 'Walk the lineage graph upstream or downstream from a run or dataset version',
        querystring: LineageQuery,
        response: withErrors({ 200: LineageGraphSchema }),
      },
    },
    async (req) => {
      const q = req.query;
      let start: LineageNode;
      if (q.ref !== undefined) {
        if (q.type !== undefined || q.id !== undefined) throw invalidArgument('Give either ref, or type and id — not both');
        start = await startNode(q.ref, (ref) => ctx.data.resolve(ref));
      } else {
        if (q.type === undefined || q.id === undefined) throw invalidArgument('Give the start node: ref=NAME@N, or type and id');
        start = { type: q.type, id: q.id };
      }
      return lineageGraph(ctx.store.db, { getVersion: (id) => ctx.data.getVersion(id), getRun: (id) => ctx.tracking.getRun(id) }, start, q.direction ?? 'upstream', q.maxDepth);
    },
  );
};
