/**
 * Lineage for people: a walk of the edge graph (service.ts) with a readable
 * label on every node — dataset versions as `name@N`, runs as
 * `run <name> (<id prefix>)` — and its rendering as an indented tree, the
 * start at the top and each node's data-flow neighbours below it. Shared by
 * `flywheel lineage` and GET /api/v1/lineage. Labels come from the owning
 * slices' services (passed in), never from their tables.
 */
import type { Kysely } from 'kysely';
import { FlywheelError, invalidArgument } from '../core/errors.js';
import type { DatasetVersion } from '../data/types.js';
import type { Database } from '../store/schema.js';
import type { Run } from '../tracking/types.js';
import { walkLineage, type LineageEdge, type LineageNode, type NodeType } from './service.js';

export type Direction = 'upstream' | 'downstream';
export const NODE_TYPES: NodeType[] = ['run', 'dataset_version', 'model_version', 'deployment'];
export const DEFAULT_MAX_DEPTH = 50;
/** Characters of a run id shown in labels. */
export const RUN_ID_PREFIX = 8;

/** Where labels come from: the data slice's versions and tracking's runs. */
export interface LabelSources {
  getVersion(id: string): Promise<DatasetVersion>;
  getRun(id: string): Promise<Run>;
}

export interface LabelledNode extends LineageNode {
  /** `orders@3`, `run transform features (1a2b3c4d)`, or `<type> <id>` for kinds without a label yet. */
  label: string;
  /** Dataset versions. */
  dataset?: string;
  version?: number;
  /** Runs. */
  runName?: string;
  status?: string;
  /** The node's record is gone (e.g. a purged run); only its id is known. */
  missing?: boolean;
}

export interface LineageGraph {
  root: LabelledNode;
  direction: Direction;
  /** Every node reached, the root first, in walk order. */
  nodes: LabelledNode[];
  edges: LineageEdge[];
}

const isNotFound = (err: unknown) => err instanceof FlywheelError && err.code === 'FW_NOT_FOUND';
const key = (n: LineageNode) => `${n.type}:${n.id}`;

export async function labelNode(sources: LabelSources, node: LineageNode): Promise<LabelledNode> {
  try {
    if (node.type === 'dataset_version') {
      const v = await sources.getVersion(node.id);
      return { ...node, label: `${v.dataset}@${v.version}`, dataset: v.dataset, version: v.version };
    }
    if (node.type === 'run') {
      const r = await sources.getRun(node.id);
      const status = r.info.status === 'FINISHED' ? '' : ` [${r.info.status}]`;
      return { ...node, label: `run ${r.info.runName} (${node.id.slice(0, RUN_ID_PREFIX)})${status}`, runName: r.info.runName, status: r.info.status };
    }
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return { ...node, label: `${node.type} ${node.id.slice(0, RUN_ID_PREFIX)} (missing)`, missing: true };
  }
  return { ...node, label: `${node.type} ${node.id}` };
}

/** Walks from `start` and labels every node reached. */
export async function lineageGraph(
  db: Kysely<Database>,
  sources: LabelSources,
  start: LineageNode,
  direction: Direction,
  maxDepth = DEFAULT_MAX_DEPTH,
): Promise<LineageGraph> {
  if (direction !== 'upstream' && direction !== 'downstream') throw invalidArgument(`direction must be "upstream" or "downstream", got "${String(direction)}"`);
  if (!Number.isInteger(maxDepth) || maxDepth < 1) throw invalidArgument(`maxDepth must be a whole number ≥ 1, got ${maxDepth}`);
  const walk = await walkLineage(db, start, direction, maxDepth);
  const nodes: LabelledNode[] = [];
  for (const n of walk.nodes) nodes.push(await labelNode(sources, n));
  // The root must exist: a start id nothing knows is an error, not an empty graph.
  if (nodes[0].missing && walk.edges.length === 0) throw new FlywheelError('FW_NOT_FOUND', `No ${start.type.replace('_', ' ')} with id ${start.id}`);
  const seen = new Set<string>();
  const edges = walk.edges.filter((e) => {
    const k = `${key(e.from)}|${e.relation}|${key(e.to)}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { root: nodes[0], direction, nodes, edges };
}

/** The edge's ends in data-flow order: a run consumes its input (input → run); it produces its output (run → output). */
function flow(edge: LineageEdge): { source: LineageNode; target: LineageNode } {
  return edge.relation === 'consumes' || edge.relation === 'serves' ? { source: edge.to, target: edge.from } : { source: edge.from, target: edge.to };
}

/**
 * The graph as an indented tree, siblings sorted by label. A node reached a
 * second time (two runs read the same input) is shown again with
 * "(see above)" instead of its subtree.
 */
export function renderLineageTree(graph: LineageGraph): string {
  const labels = new Map(graph.nodes.map((n) => [key(n), n.label]));
  const children = new Map<string, LineageNode[]>();
  for (const e of graph.edges) {
    const { source, target } = flow(e);
    const [parent, child] = graph.direction === 'upstream' ? [target, source] : [source, target];
    const list = children.get(key(parent)) ?? [];
    list.push(child);
    children.set(key(parent), list);
  }
  // Edges recorded together have no order of their own: siblings go by label.
  const labelOf = (n: LineageNode) => labels.get(key(n)) ?? `${n.type} ${n.id}`;
  for (const list of children.values()) list.sort((x, y) => (labelOf(x) < labelOf(y) ? -1 : labelOf(x) > labelOf(y) ? 1 : 0));
  const lines: string[] = [graph.root.label];
  const expanded = new Set<string>([key(graph.root)]);
  const visit = (node: LineageNode, prefix: string) => {
    const kids = children.get(key(node)) ?? [];
    kids.forEach((child, i) => {
      const last = i === kids.length - 1;
      const k = key(child);
      const label = labelOf(child);
      const repeat = expanded.has(k);
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${label}${repeat && (children.get(k)?.length ?? 0) > 0 ? ' (see above)' : ''}`);
      if (!repeat) {
        expanded.add(k);
        visit(child, prefix + (last ? '   ' : '│  '));
      }
    });
  };
  visit(graph.root, '');
  if (lines.length === 1) lines.push(`   (nothing ${graph.direction})`);
  return lines.join('\n') + '\n';
}

/**
 * The start node of a walk from what a user typed: `run:<id>` names a run,
 * anything else is a dataset ref resolved by `resolve` (NAME@3, NAME@latest…).
 */
export async function startNode(ref: string, resolve: (ref: string) => Promise<DatasetVersion>): Promise<LineageNode> {
  if (ref.startsWith('run:')) {
    const id = ref.slice(4);
    if (id === '') throw invalidArgument('run: needs a run id, e.g. run:1a2b3c…');
    return { type: 'run', id };
  }
  return { type: 'dataset_version', id: (await resolve(ref)).id };
}
