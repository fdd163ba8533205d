/**
 * Labels and tree rendering on hand-built graphs: nodes whose records are
 * gone, kinds without labels yet, a diamond (one input read by two runs)
 * whose shared subtree is printed once, and an unknown start.
 */
import { describe, expect, it } from 'vitest';
import { notFound } from '../core/errors.js';
import type { DatasetVersion } from '../data/types.js';
import type { Run } from '../tracking/types.js';
import { labelNode, lineageGraph, renderLineageTree, type LabelSources, type LineageGraph } from './graph.js';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { LineageNode } from './service.js';

const versions: Record<string, [string, number]> = { v1: ['raw', 1], v2: ['clean', 1], v3: ['a', 1], v4: ['b', 2], v5: ['joined', 1] };
const runs: Record<string, [string, string]> = { r1: ['clean', 'FINISHED'], r2: ['split a', 'FINISHED'], r3: ['split b', 'RUNNING'], r4: ['join', 'FINISHED'] };

const sources: LabelSources = {
  async getVersion(id) {
    if (!versions[id]) throw notFound(`No dataset version with id ${id}`);
    const [dataset, version] = versions[id];
    return { id, dataset, version } as DatasetVersion;
  },
  async getRun(id) {
    if (!runs[id]) throw notFound(`Run with id=${id} not found`);
    const [runName, status] = runs[id];
    return { info: { runId: id, runName, status }, data: {} } as unknown as Run;
  },
};

const dv = (id: string): LineageNode => ({ type: 'dataset_version', id });
const run = (id: string): LineageNode => ({ type: 'run', id });

describe('labelNode', () => {
  it('labels versions as name@N and runs as "run <name> (<id prefix>)", with a non-final status', async () => {
    expect((await labelNode(sources, dv('v4'))).label).toBe('b@2');
    expect((await labelNode(sources, run('r1'))).label).toBe('run clean (r1)');
    expect(await labelNode(sources, run('r3'))).toEqual({ type: 'run', id: 'r3', label: 'run split b (r3) [RUNNING]', runName: 'split b', status: 'RUNNING' });
  });

  it('marks nodes whose record is gone, and names kinds without labels by id', async () => {
    expect(await labelNode(sources, run('0123456789abcdef'))).toEqual({ type: 'run', id: '0123456789abcdef', label: 'run 01234567 (missing)', missing: true });
    expect((await labelNode(sources, { type: 'model_version', id: 'm7' })).label).toBe('model_version m7');
  });
});

describe('renderLineageTree', () => {
  // raw → clean → (a, b) → joined: clean is reached twice downstream, through a and through b.
  const downstream: LineageGraph = {
    root: { ...dv('v1'), label: 'raw@1' },
    direction: 'downstream',
    nodes: [
      { ...dv('v1'), label: 'raw@1' },
      { ...run('r1'), label: 'run clean (r1)' },
      { ...dv('v2'), label: 'clean@1' },
      { ...run('r2'), label: 'run split a (r2)' },
      { ...run('r3'), label: 'run split b (r3) [RUNNING]' },
      { ...dv('v3'), label: 'a@1' },
      { ...dv('v4'), label: 'b@2' },
      { ...run('r4'), label: 'run join (r4)' },
      { ...dv('v5'), label: 'joined@1' },
    ],
    edges: [
      { from: run('r1'), relation: 'consumes', to: dv('v1') },
      { from: run('r1'), relation: 'produces', to: dv('v2') },
      { from: run('r3'), relation: 'consumes', to: dv('v2') },
      { from: run('r2'), relation: 'consumes', to: dv('v2') },
      { from: run('r2'), relation: 'produces', to: dv('v3') },
      { from: run('r3'), relation: 'produces', to: dv('v4') },
      { from: run('r4'), relation: 'consumes', to: dv('v3') },
      { from: run('r4'), relation: 'consumes', to: dv('v4') },
      { from: run('r4'), relation: 'produces', to: dv('v5') },
    ],
  };

  it('draws the data flow as a tree, siblings by label, a shared subtree once', () => {
    expect(renderLineageTree(downstream)).toBe(
      [
        'raw@1',
        '└─ run clean (r1)',
        '   └─ clean@1',
        '      ├─ run split a (r2)',
        '      │  └─ a@1',
        '      │     └─ run join (r4)',
        '      │        └─ joined@1',
        '      └─ run split b (r3) [RUNNING]',
        '         └─ b@2',
        '            └─ run join (r4) (see above)',
        '',
      ].join('\n'),
    );
  });

  it('reverses the edges for an upstream walk', () => {
    const upstream: LineageGraph = { ...downstream, root: { ...dv('v5'), label: 'joined@1' }, direction: 'upstream' };
    expect(renderLineageTree(upstream)).toBe(
      [
        'joined@1',
        '└─ run join (r4)',
        '   ├─ a@1',
        '   │  └─ run split a (r2)',
        '   │     └─ clean@1',
        '   │        └─ run clean (r1)',
        '   │           └─ raw@1',
        '   └─ b@2',
        '      └─ run split b (r3) [RUNNING]',
        '         └─ clean@1 (see above)',
        '',
      ].join('\n'),
    );
  });
});

describe('lineageGraph', () => {
  it('refuses a start nothing knows', async () => {
    const db = {
      selectFrom: () => ({ selectAll: () => ({ where: () => ({ orderBy: () => ({ execute: async () => [] }) }) }) }),
    } as unknown as Kysely<Database>;
    await expect(lineageGraph(db, sources, dv('nope'), 'upstream')).rejects.toThrow('No dataset version with id nope');
    await expect(lineageGraph(db, sources, dv('v1'), 'sideways' as 'upstream')).rejects.toThrow('direction must be "upstream" or "downstream"');
  });
});
