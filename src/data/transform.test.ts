/**
 * SQL transforms end to end on a real DataService and TrackingService: two
 * transforms (raw → features → scores, test/fixtures/transform) whose rows
 * are checked against hand-computed values, the run each one records
 * (params, SQL hash, the SQL as an artifact, status), the lineage across
 * both, and the failures: SQL errors, unknown refs and bad templates leave
 * no version behind. Also the `{{ ref() }}` parser on its own.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { sqlLiteral } from '../engine/index.js';
import { walkLineage } from '../lineage/service.js';
import { openTransformHarness, TRANSFORM_FIXTURES, type TransformHarness } from '../../test/support/transforms.js';
import { parseRefTemplate } from './ref-template.js';
import { runTransform, type TransformResult } from './transform.js';

let h: TransformHarness;
let features: TransformResult;
let scores: TransformResult;

const deps = () => ({ data: h.data, tracking: h.tracking, engine: h.engine, store: h.store });
const fixture = (name: string) => path.join(TRANSFORM_FIXTURES, name);

async function rowsOf(ref: string): Promise<Record<string, unknown>[]> {
  const file = await h.data.parquetPath(await h.data.resolve(ref));
  return h.engine.query(`SELECT * FROM read_parquet(${sqlLiteral(file)})`);
}

async function transformRuns() {
  const exp = await h.tracking.getExperimentByName('transforms');
  return (await h.tracking.searchRuns({ experimentIds: [exp.experimentId], orderBy: ['attributes.start_time ASC'] })).items;
}

function expectFlywheelError(err: unknown, code: string, ...fragments: string[]): void {
  expect(err).toBeInstanceOf(FlywheelError);
  expect((err as FlywheelError).code).toBe(code);
  for (const f of fragments) expect((err as Error).message).toContain(f);
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err,
  );
}

beforeAll(async () => {
  h = await openTransformHarness();
  ({ features, scores } = await h.chain());
});
afterAll(async () => {
  await h?.dispose();
});

describe('runTransform', () => {
  it('writes the query result as a new version of the target', async () => {
    expect(features.version).toMatchObject({ dataset: 'features', version: 1, rowCount: 3, runId: features.runId });
    // raw.csv: ids 1..4, amount 10.5, NULL, 4.25, 8 → doubled, NULL dropped.
    expect(await rowsOf('features@1')).toEqual([
      { id: 1n, amount2: 21, region: 'eu' },
      { id: 3n, amount2: 8.5, region: 'eu' },
      { id: 4n, amount2: 16, region: 'us' },
    ]);
    expect(features.version.schema.map((c) => [c.name, c.type])).toEqual([
      ['id', 'BIGINT'],
      ['amount2', 'DOUBLE'],
      ['region', 'VARCHAR'],
    ]);
    // scores = amount2 + qty (qty 2, 3, 1 for ids 1, 3, 4).
    expect(await rowsOf('scores@1')).toEqual([
      { id: 1n, score: 23 },
      { id: 3n, score: 11.5 },
      { id: 4n, score: 17 },
    ]);
  });

  it('resolves every ref and reports the inputs', async () => {
    const raw = await h.data.resolve('raw@1');
    const f = await h.data.resolve('features@1');
    expect(features.inputs.map((i) => [i.ref, i.version.id])).toEqual([['raw', raw.id]]);
    expect(scores.inputs.map((i) => [i.ref, i.version.id])).toEqual([
      ['features', f.id],
      ['raw@1', raw.id],
    ]);
  });

  it('records the transform as a finished run in the experiment "transforms"', async () => {
    const sqlText = fs.readFileSync(fixture('features.sql'), 'utf8');
    const run = await h.tracking.getRun(features.runId);
    expect(run.info.status).toBe('FINISHED');
    expect(run.info.runName).toBe('transform features');
    expect((await h.tracking.getExperiment(run.info.experimentId)).name).toBe('transforms');
    expect(run.data.params).toEqual({ sql_file: fixture('features.sql'), target: 'features', inputs: 'raw@1' });
    expect(run.data.tags['flywheel.transform.sql_sha256']).toBe(createHash('sha256').update(sqlText).digest('hex'));
    expect(run.data.tags['flywheel.transform.output']).toBe('features@1');
    expect(features.sqlSha256).toBe(createHash('sha256').update(sqlText).digest('hex'));
    const chunks: Buffer[] = [];
    for await (const c of await h.tracking.getRunArtifact(features.runId, 'transform.sql')) chunks.push(Buffer.from(c as Uint8Array));
    expect(Buffer.concat(chunks).toString('utf8')).toBe(sqlText);
    expect((await h.tracking.getRun(scores.runId)).data.params.inputs).toBe('features@1,raw@1');
  });

  it('records lineage: scores reaches raw upstream, raw reaches scores downstream', async () => {
    const raw = await h.data.resolve('raw@1');
    const f = await h.data.resolve('features@1');
    const s = await h.data.resolve('scores@1');
    const up = await walkLineage(h.store.db, { type: 'dataset_version', id: s.id }, 'upstream');
    expect(new Set(up.nodes.map((n) => `${n.type}:${n.id}`))).toEqual(
      new Set([`dataset_version:${s.id}`, `run:${scores.runId}`, `dataset_version:${f.id}`, `run:${features.runId}`, `dataset_version:${raw.id}`]),
    );
    expect(up.edges).toContainEqual({ from: { type: 'run', id: scores.runId }, relation: 'produces', to: { type: 'dataset_version', id: s.id } });
    expect(up.edges).toContainEqual({ from: { type: 'run', id: scores.runId }, relation: 'consumes', to: { type: 'dataset_version', id: raw.id } });
    expect(up.edges).toContainEqual({ from: { type: 'run', id: features.runId }, relation: 'consumes', to: { type: 'dataset_version', id: raw.id } });
    const down = await walkLineage(h.store.db, { type: 'dataset_version', id: raw.id }, 'downstream');
    expect(down.nodes.map((n) => n.id)).toContain(s.id);
  });

  it('takes SQL text as well as a file, and logs extra params', async () => {
    const r = await runTransform(deps(), { sql: "select region, count(*) as n from {{ ref('raw') }} group by region order by region" }, {
      into: 'by_region',
      message: 'counts',
      params: { owner: 'ana' },
    });
    expect(r.version).toMatchObject({ dataset: 'by_region', version: 1, message: 'counts' });
    expect(await rowsOf('by_region')).toEqual([
      { region: 'eu', n: 2n },
      { region: 'us', n: 2n },
    ]);
    expect((await h.tracking.getRun(r.runId)).data.params).toEqual({ owner: 'ana', sql_file: 'SQL', target: 'by_region', inputs: 'raw@1' });
  });

  it('reports a SQL error with the file and DuckDB message, records a failed run and makes no version', async () => {
    const file = h.write('broken.sql', "select id,\n  nope\nfrom {{ ref('raw') }}\n");
    const blobs = h.blobs();
    const err = await failure(runTransform(deps(), { file }, { into: 'broken' }));
    expectFlywheelError(err, 'FW_INVALID_ARGUMENT', `${file}: SQL failed: Binder Error: Referenced column "nope" not found`, '(line 2)');
    await expect(h.data.get('broken')).rejects.toThrow('Dataset "broken" does not exist');
    expect(h.blobs()).toEqual(blobs);
    const run = (await transformRuns()).at(-1)!;
    expect(run.info.status).toBe('FAILED');
    expect(run.data.tags['flywheel.transform.target']).toBe('broken');
    expect(run.data.tags['flywheel.transform.error']).toContain('Referenced column "nope" not found');
  });

  it('adds no version to an existing target when the SQL fails', async () => {
    const err = await failure(runTransform(deps(), { sql: "select 1/0::INTEGER as x, * fro {{ ref('raw') }}" }, { into: 'features' }));
    expectFlywheelError(err, 'FW_INVALID_ARGUMENT', 'SQL: SQL failed: Parser Error: syntax error');
    expect((await h.data.log('features')).map((v) => v.version)).toEqual([1]);
  });

  it('names the line and column of an unknown ref, on a failed run', async () => {
    const file = h.write('unknown.sql', "select *\nfrom   {{ ref('nope@2') }}\n");
    const err = await failure(runTransform(deps(), { file }, { into: 'unknown' }));
    expectFlywheelError(err, 'FW_NOT_FOUND', `${file}:2:8: ref('nope@2'): Dataset "nope" does not exist`);
    expect((await transformRuns()).at(-1)!.info.status).toBe('FAILED');
    await expect(h.data.get('unknown')).rejects.toThrow('does not exist');
  });

  it('refuses a bad template before starting a run, naming line and column', async () => {
    const before = (await transformRuns()).length;
    const file = h.write('bad-template.sql', "select *\nfrom {{ ref('raw') }}\n  join {{ source('raw') }} using (id)\n");
    const err = await failure(runTransform(deps(), { file }, { into: 'bad' }));
    expectFlywheelError(err, 'FW_INVALID_ARGUMENT', `${file}:3:8: unsupported template "{{ source('raw') }}"`);
    expect((await transformRuns()).length).toBe(before);
    await expect(h.data.get('bad')).rejects.toThrow('does not exist');
  });

  it('refuses a missing file and a bad target name', async () => {
    expectFlywheelError(await failure(runTransform(deps(), { file: fixture('absent.sql') }, { into: 'x' })), 'FW_NOT_FOUND', 'absent.sql does not exist');
    expectFlywheelError(await failure(runTransform(deps(), { sql: 'select 1' }, { into: '../x' })), 'FW_INVALID_ARGUMENT', 'Invalid dataset name "../x"');
  });
});

describe('parseRefTemplate', () => {
  it('finds refs with either quotes and any spacing, with their positions', () => {
    const sql = "select *\nfrom {{ref('a')}} join {{  ref ( \"b@4\" )  }}\n  , {{ ref('c@latest') }}";
    expect(parseRefTemplate(sql).map((p) => [p.ref, p.line, p.column, sql.slice(p.start, p.end)])).toEqual([
      ['a', 2, 6, "{{ref('a')}}"],
      ['b@4', 2, 24, '{{  ref ( "b@4" )  }}'],
      ['c@latest', 3, 5, "{{ ref('c@latest') }}"],
    ]);
  });

  it('names line and column of what it cannot accept', () => {
    expect(() => parseRefTemplate("select\n  {{ ref('a') }}, {{ ref(a) }}", 'f.sql')).toThrow('f.sql:2:19: unsupported template "{{ ref(a) }}"');
    expect(() => parseRefTemplate("select {{ ref('a') }", 'f.sql')).toThrow('f.sql:1:8: "{{" is not closed by "}}"');
    expect(() => parseRefTemplate("select {{ ref('a') {{ ref('b') }}", 'f.sql')).toThrow('f.sql:1:8: "{{" is not closed');
    expect(() => parseRefTemplate("select {{ ref('a') }} from {{ ref('a/b') }}", 'f.sql')).toThrow('f.sql:1:28: Invalid dataset name "a/b"');
    expect(() => parseRefTemplate("x {{ ref('a', 'b') }}", 'f.sql')).toThrow('f.sql:1:3: unsupported template');
  });

  it('accepts SQL without templates', () => {
    expect(parseRefTemplate('select 1 as "}}"')).toEqual([]);
  });
});
