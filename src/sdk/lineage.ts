/**
 * `fw.lineage(ref, direction)` in both modes: where a dataset version came
 * from (upstream: the runs that produced it and their inputs, recursively)
 * or what was made from it (downstream), as a labelled graph. Embedded mode
 * walks the store's edges with the lineage slice's `lineageGraph`; remote
 * mode asks `GET /api/v1/lineage`, which runs the same function.
 */
import type { Kysely } from 'kysely';
import type { DatasetVersion } from '../data/types.js';
import { lineageGraph, startNode, type Direction, type LineageGraph } from '../lineage/graph.js';
import type { Database } from '../store/schema.js';
import type { TrackingApi } from '../tracking/api.js';
import { ApiClient } from './api-client.js';

export interface LineageOptions {
  /** Follow at most this many edges from the start (default 50). */
  maxDepth?: number;
}

/** A walk from `ref`: a dataset ref (NAME@3, NAME@latest…) or `run:<run id>`. */
export type LineageWalk = (ref: string, direction: Direction, options?: LineageOptions) => Promise<LineageGraph>;

/** In process: the store's edge table, labels from the data and tracking services. */
export function embeddedLineage(deps: {
  db: Kysely<Database>;
  data: { resolve(ref: string): Promise<DatasetVersion>; getVersion(id: string): Promise<DatasetVersion> };
  tracking: Pick<TrackingApi, 'getRun'>;
}): LineageWalk {
  return async (ref, direction, options = {}) => {
    const start = await startNode(ref, (r) => deps.data.resolve(r));
    return lineageGraph(deps.db, { getVersion: (id) => deps.data.getVersion(id), getRun: (id) => deps.tracking.getRun(id) }, start, direction, options.maxDepth);
  };
}

/** Against a server: GET /api/v1/lineage. */
export function remoteLineage(baseUrl: string, fetchImpl?: typeof fetch): LineageWalk {
  const api = new ApiClient(baseUrl, fetchImpl);
  return (ref, direction, options = {}) => api.json('GET', '/lineage', { query: { ref, direction, maxDepth: options.maxDepth } });
}
