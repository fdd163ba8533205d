/**
 * The lineage graph: edges "X —relation→ Y" between runs, dataset versions,
 * model versions, deployments. Slices record edges inside their own
 * transactions; queries walk the graph upstream or downstream.
 *
 * Relations in use: run —consumes→ dataset_version, run —produces→ dataset_version
 * (later: run —produces→ model_version, deployment —serves→ model_version).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

export type NodeType = 'run' | 'dataset_version' | 'model_version' | 'deployment';
export type Relation = 'consumes' | 'produces' | 'serves';

export interface LineageNode {
  type: NodeType;
  id: string;
}

export interface LineageEdge {
  from: LineageNode;
  relation: Relation;
  to: LineageNode;
}

/** Records edges; recording an edge that exists already is a no-op. */
export async function recordEdges(db: Kysely<Database>, edges: LineageEdge[]): Promise<void> {
  if (edges.length === 0) return;
  const now = Date.now();
  await db
    .insertInto('lineage_edges')
    .values(edges.map((e) => ({ from_type: e.from.type, from_id: e.from.id, relation: e.relation, to_type: e.to.type, to_id: e.to.id, created_time: now })))
    .onConflict((oc) => oc.columns(['from_type', 'from_id', 'relation', 'to_type', 'to_id']).doNothing())
    .execute();
}

/**
 * Data flows run ← consumes (input) and run → produces (output). "Upstream" of a
 * node is where its data came from: for a dataset version, the run that produced
 * it, then that run's inputs, and so on. "Downstream" is the reverse.
 */
export async function walkLineage(
  db: Kysely<Database>,
  start: LineageNode,
  direction: 'upstream' | 'downstream',
  maxDepth = 50,
): Promise<{ nodes: LineageNode[]; edges: LineageEdge[] }> {
  const seen = new Set<string>([`${start.type}:${start.id}`]);
  const nodes: LineageNode[] = [start];
  const edges: LineageEdge[] = [];
  let frontier: LineageNode[] = [start];
  for (let depth = 0; depth < maxDepth && frontier.length > 0; depth++) {
    const next: LineageNode[] = [];
    for (const node of frontier) {
      for (const edge of await neighbours(db, node, direction)) {
        edges.push(edge);
        const other = otherEnd(edge, node);
        const key = `${other.type}:${other.id}`;
        if (!seen.has(key)) {
          seen.add(key);
          nodes.push(other);
          next.push(other);
        }
      }
    }
    frontier = next;
  }
  return { nodes, edges };
}

/** The node on the other end of an edge from `node`. */
function otherEnd(edge: LineageEdge, node: LineageNode): LineageNode {
  return edge.from.type === node.type && edge.from.id === node.id ? edge.to : edge.from;
}

/**
 * Data-flow neighbours. A "consumes" edge points run → input, against the flow;
 * "produces" and "serves" point along it. Upstream of N: runs that produced N
 * (produces edges into N), inputs a run consumed (consumes edges out of a run),
 * models a deployment serves.
 */
async function neighbours(db: Kysely<Database>, node: LineageNode, direction: 'upstream' | 'downstream'): Promise<LineageEdge[]> {
  const againstFlow = ['consumes', 'serves'];
  const rows = await db
    .selectFrom('lineage_edges')
    .selectAll()
    .where((eb) =>
      direction === 'upstream'
        ? eb.or([
            eb.and([eb('to_type', '=', node.type), eb('to_id', '=', node.id), eb('relation', 'not in', againstFlow)]),
            eb.and([eb('from_type', '=', node.type), eb('from_id', '=', node.id), eb('relation', 'in', againstFlow)]),
          ])
        : eb.or([
            eb.and([eb('from_type', '=', node.type), eb('from_id', '=', node.id), eb('relation', 'not in', againstFlow)]),
            eb.and([eb('to_type', '=', node.type), eb('to_id', '=', node.id), eb('relation', 'in', againstFlow)]),
          ]),
    )
    .orderBy('created_time')
    .execute();
  return rows.map((r) => ({
    from: { type: r.from_type as NodeType, id: r.from_id },
    relation: r.relation as Relation,
    to: { type: r.to_type as NodeType, id: r.to_id },
  }));
}
