/**
 * Data benchmark (issue 3), one run on a generated CSV (default 10,000,000 rows
 * × 20 columns: numeric, categorical, timestamp):
 *
 * - `data add` (CSV → Parquet zstd + content hash + profile) against a bare DuckDB
 *   `COPY (SELECT * FROM read_csv(…)) TO 'x.parquet'` of the same file. Target ratio ≤ 1.5.
 * - A 20-check quality suite on the new version against one bare DuckDB
 *   `SELECT count(*) … WHERE` scan of the same Parquet. Target ratio ≤ 2.
 * - Re-adding the unchanged file. Target under 50 ms.
 *
 * Options: --rows N (default 10000000), --keep (leave the temp folder).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig } from '../src/core/config.js';
import { Engine, sqlLiteral } from '../src/engine/index.js';
import { openStore } from '../src/store/index.js';
import { openArtifactStore } from '../src/artifacts/index.js';
import { DataService } from '../src/data/service.js';
import { QualityService, defineSuite } from '../src/quality/index.js';

function option(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const ROWS = option('rows', 10_000_000);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-bench-data-'));
const csv = path.join(root, 'events.csv');

/** CPU time of the process (all DuckDB threads included) spent by the last `timed` call, in ms: unlike wall time, barely moved by other work on the machine. */
let lastCpuMs = 0;
async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const cpu = process.cpuUsage();
  const out = await fn();
  const used = process.cpuUsage(cpu);
  lastCpuMs = (used.user + used.system) / 1000;
  return [out, performance.now() - t];
}

const engine = await Engine.open();
try {
  // 20 columns: id, 9 doubles, 2 integers, 5 categoricals, 2 timestamps, 1 e-mail-like text.
  const [, genMs] = await timed(() =>
    engine.run(`COPY (
      SELECT i AS id,
        ${Array.from({ length: 9 }, (_, k) => `round(random() * ${10 ** (k % 4 + 1)}, 4) AS x${k}`).join(',\n        ')},
        (i * 7919) % 1000 AS qty, (i % 97) - 10 AS delta,
        ['paid','refund','shipped','cancelled'][1 + i % 4] AS status,
        ['eu','us','apac','latam','mena'][1 + (i * 31) % 5] AS region,
        'plan_' || (i % 12) AS plan,
        ['web','ios','android'][1 + (i * 13) % 3] AS channel,
        'seg' || ((i * 17) % 40) AS segment,
        TIMESTAMP '2026-01-01 00:00:00' + to_seconds(i % 31536000) AS created_at,
        TIMESTAMP '2026-06-01 00:00:00' + to_seconds((i * 3) % 864000) AS updated_at,
        'user' || (i % 100000) || '@example.com' AS email
      FROM range(${ROWS}) t(i)
    ) TO ${sqlLiteral(csv)} (HEADER, DELIMITER ',')`),
  );
  const csvBytes = fs.statSync(csv).size;
  console.log(`data bench: ${ROWS.toLocaleString('en')} rows × 20 columns, CSV ${(csvBytes / 2 ** 20).toFixed(0)} MiB (generated in ${(genMs / 1000).toFixed(1)} s; node ${process.version}, ${os.cpus().length} cores)`);

  // Baseline 1: bare DuckDB CSV → Parquet.
  const bareParquet = path.join(root, 'bare.parquet');
  const [, bareCopyMs] = await timed(() => engine.run(`COPY (SELECT * FROM read_csv(${sqlLiteral(csv)})) TO ${sqlLiteral(bareParquet)} (FORMAT parquet, COMPRESSION zstd)`));
  const bareCopyCpuMs = lastCpuMs;

  const config = resolveConfig({ home: path.join(root, 'home') });
  const store = await openStore(config.db);
  const artifacts = openArtifactStore(config.artifacts);
  const data = new DataService({ store, artifacts, engine, actor: 'bench' });
  const [added, addMs] = await timed(() => data.add('events', csv, { message: 'bench' }));
  const addCpuMs = lastCpuMs;
  const [readded, readdMs] = await timed(() => data.add('events', csv, { skipUnchanged: true }));
  if (readded.created || readded.unchanged !== 'fingerprint') throw new Error(`re-add was not recognised as unchanged: ${JSON.stringify(readded.unchanged)}`);

  const suite = defineSuite({
    name: 'events_bench',
    dataset: 'events',
    checks: [
      { type: 'row_count', min: 1 },
      { type: 'column_exists', column: 'email' },
      { type: 'column_type', column: 'id', dtype: 'BIGINT' },
      { type: 'not_null', column: 'id' },
      { type: 'not_null', column: 'status' },
      { type: 'not_null', column: 'created_at' },
      { type: 'unique', column: 'id' },
      { type: 'in_set', column: 'status', values: ['paid', 'refund', 'shipped', 'cancelled'] },
      { type: 'in_set', column: 'region', values: ['eu', 'us', 'apac', 'latam', 'mena'] },
      { type: 'in_set', column: 'channel', values: ['web', 'ios', 'android'] },
      { type: 'between', column: 'x0', min: 0, max: 10 },
      { type: 'between', column: 'x1', min: 0, max: 100 },
      { type: 'between', column: 'qty', min: 0, max: 999 },
      { type: 'between', column: 'delta', min: -10, max: 86, mostly: 0.99 },
      { type: 'length', column: 'plan', min: 6, max: 7 },
      { type: 'length', column: 'segment', max: 5 },
      { type: 'regex', column: 'email', pattern: '^[a-z0-9]+@example\\.com$' },
      { type: 'sql', name: 'updated_after_created_or_old', expect: "updated_at >= TIMESTAMP '2026-06-01' or created_at < updated_at" },
      { type: 'freshness', column: 'updated_at', max_age: '3650d' },
      { type: 'not_null', column: 'email', severity: 'warn' },
    ],
  });
  const quality = new QualityService({ store, engine, data });
  const version = added.version;
  const parquet = await data.parquetPath(version);
  const [result, suiteMs] = await timed(() => quality.validate(`events@${version.version}`, suite, { save: false }));
  // Baseline 2: one bare count-where scan of the same Parquet: the suite's row
  // conditions written by hand as one WHERE. (A single range predicate would be
  // answered from Parquet min/max statistics without reading the data.)
  const bareWhere = `id IS NULL OR status IS NULL OR created_at IS NULL OR email IS NULL
    OR status NOT IN ('paid','refund','shipped','cancelled') OR region NOT IN ('eu','us','apac','latam','mena') OR channel NOT IN ('web','ios','android')
    OR x0 NOT BETWEEN 0 AND 10 OR x1 NOT BETWEEN 0 AND 100 OR qty NOT BETWEEN 0 AND 999 OR delta NOT BETWEEN -10 AND 86
    OR length(plan) NOT BETWEEN 6 AND 7 OR length(segment) > 5 OR NOT regexp_matches(email, '^[a-z0-9]+@example\\.com$')
    OR NOT (updated_at >= TIMESTAMP '2026-06-01' OR created_at < updated_at)`;
  const [, bareScanMs] = await timed(() => engine.query(`SELECT count(*) AS n FROM read_parquet(${sqlLiteral(parquet)}) WHERE ${bareWhere}`));

  await store.close();
  const addRatio = Number((addMs / bareCopyMs).toFixed(3));
  const addCpuRatio = Number((addCpuMs / bareCopyCpuMs).toFixed(3));
  const suiteRatio = Number((suiteMs / bareScanMs).toFixed(3));
  console.log(`data add: ${(addMs / 1000).toFixed(2)} s; bare DuckDB COPY read_csv → parquet: ${(bareCopyMs / 1000).toFixed(2)} s; ratio ${addRatio} (CPU time ${(addCpuMs / 1000).toFixed(2)} s vs ${(bareCopyCpuMs / 1000).toFixed(2)} s: ratio ${addCpuRatio})`);
  console.log(`20-check suite: ${suiteMs.toFixed(0)} ms (${result.checks.filter((c) => c.success).length}/${result.checks.length} passed); bare count-where scan: ${bareScanMs.toFixed(0)} ms; ratio ${suiteRatio}`);
  console.log(`re-add unchanged file: ${readdMs.toFixed(1)} ms (recognised by ${readded.unchanged})`);
  const targets = { addRatioToBareCopy: 1.5, suiteRatioToBareScan: 2, readdMs: 50 };
  console.log(
    JSON.stringify({
      bench: 'data',
      figures: { rows: ROWS, csvMiB: Math.round(csvBytes / 2 ** 20), addMs: Math.round(addMs), bareCopyMs: Math.round(bareCopyMs), addRatioToBareCopy: addRatio, addCpuMs: Math.round(addCpuMs), bareCopyCpuMs: Math.round(bareCopyCpuMs), addCpuRatioToBareCopy: addCpuRatio, suiteMs: Math.round(suiteMs), bareScanMs: Math.round(bareScanMs), suiteRatioToBareScan: suiteRatio, readdMs: Number(readdMs.toFixed(1)) },
      targets,
      met: addRatio <= targets.addRatioToBareCopy && suiteRatio <= targets.suiteRatioToBareScan && readdMs < targets.readdMs,
    }),
  );
} finally {
  engine.close();
  if (!process.argv.includes('--keep')) fs.rmSync(root, { recursive: true, force: true });
  else console.error(`kept ${root}`);
}
