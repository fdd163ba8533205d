/**
 * The manifest and signature rules users meet: a bad manifest field is
 * refused by name; DuckDB schemas map to signature types; rows are checked at
 * predict time (missing fields, wrong types and nulls named with their row
 * index, extra fields ignored) and turned into typed columns.
 */
import { describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { manifest } from '../../test/fixtures/models/support.js';
import { checkColumns, columnsToRows, inferSignatureInputs, parseManifest, parseManifestJson, rowsToColumns, signatureTypeOf, validateRows, type ModelSignature } from './manifest.js';

function failure(fn: () => unknown): FlywheelError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FlywheelError);
    return err as FlywheelError;
  }
  throw new Error('expected a FlywheelError');
}

describe('parseManifest', () => {
  it('accepts the contract shape and fills defaults', () => {
    const m = manifest({ signature: { inputs: [{ name: 'x', type: 'double' }], outputs: [{ name: 'prediction', type: 'double' }] }, task: 'regression', classes: null });
    const parsed = parseManifest(JSON.parse(JSON.stringify(m)));
    expect(parsed.signature.inputs).toEqual([{ name: 'x', type: 'double', nullable: false }]);
    expect(parsed.task).toBe('regression');
    expect(parsed.files).toEqual({ model: 'model.onnx' });
  });

  it.each([
    [{ format: 2 }, 'manifest.format'],
    [{ flavor: 'pickle' }, 'manifest.flavor'],
    [{ signature: { inputs: [] } }, 'manifest.signature.inputs'],
    [{ signature: { inputs: [{ name: 'a', type: 'double' }, { name: 'b', type: 'float' }] } }, 'manifest.signature.inputs[1].type'],
    [{ signature: { inputs: [{ name: 'a', type: 'double' }, { name: 'a', type: 'long' }] } }, 'manifest.signature.inputs[1].name'],
    [{ signature: { inputs: [{ name: 'a', type: 'double', nullable: 'yes' }] } }, 'manifest.signature.inputs[0].nullable'],
    [{ task: 'ranking' }, 'manifest.task'],
    [{ classes: ['only'] }, 'manifest.classes'],
    [{ task: 'regression' }, 'manifest.classes'],
    [{ files: {} }, 'manifest.files.model'],
    [{ files: { model: '../escape.onnx' } }, 'manifest.files.model'],
    [{ flavor: 'js' }, 'manifest.files.module'],
    [{ training: { dataset: null } }, 'manifest.training.runId'],
    [{ metrics: { auc: 'high' } }, 'manifest.metrics.auc'],
    [{ createdTime: -5 }, 'manifest.createdTime'],
  ] as [Record<string, unknown>, string][])('refuses %j naming %s', (override, field) => {
    const err = failure(() => parseManifest({ ...manifest(), ...override }));
    expect(err.code).toBe('FW_INVALID_ARGUMENT');
    expect(err.message.startsWith(field)).toBe(true);
    expect(err.details?.field).toBe(field);
  });

  it('reports JSON that does not parse', () => {
    expect(failure(() => parseManifestJson('{"format": 1,')).message).toMatch(/^flywheel-model\.json is not valid JSON/);
  });
});

describe('signatures from DuckDB schemas', () => {
  it('maps DuckDB types to double, long, string and boolean', () => {
    expect(['DOUBLE', 'FLOAT', 'DECIMAL(18,3)', 'BIGINT', 'INTEGER', 'UTINYINT', 'HUGEINT', 'VARCHAR', "ENUM('a', 'b')", 'BOOLEAN', 'TIMESTAMP', 'DATE', 'BLOB', 'INTEGER[]'].map(signatureTypeOf)).toEqual([
      'double', 'double', 'double', 'long', 'long', 'long', 'long', 'string', 'string', 'boolean', null, null, null, null,
    ]);
  });

  it('infers inputs in schema order, nullability kept, the target left out', () => {
    const schema = [
      { name: 'age', type: 'BIGINT', nullable: true },
      { name: 'plan', type: 'VARCHAR', nullable: false },
      { name: 'churned', type: 'BOOLEAN', nullable: false },
      { name: 'spend', type: 'DOUBLE', nullable: true },
    ];
    expect(inferSignatureInputs(schema, { exclude: ['churned'] })).toEqual([
      { name: 'age', type: 'long', nullable: true },
      { name: 'plan', type: 'string', nullable: false },
      { name: 'spend', type: 'double', nullable: true },
    ]);
  });

  it('names a column whose type a signature cannot hold, and an unknown excluded column', () => {
    const schema = [{ name: 'seen_at', type: 'TIMESTAMP', nullable: false }, { name: 'x', type: 'DOUBLE', nullable: false }];
    expect(failure(() => inferSignatureInputs(schema)).message).toMatch(/^column "seen_at" has type TIMESTAMP/);
    expect(inferSignatureInputs(schema, { exclude: ['seen_at'] })).toEqual([{ name: 'x', type: 'double', nullable: false }]);
    expect(failure(() => inferSignatureInputs(schema, { exclude: ['label'] })).message).toMatch(/^column "label" is not in the data/);
  });
});

const SIG: ModelSignature = {
  inputs: [
    { name: 'age', type: 'double', nullable: true },
    { name: 'visits', type: 'long', nullable: false },
    { name: 'plan', type: 'string', nullable: true },
    { name: 'active', type: 'boolean', nullable: false },
  ],
  outputs: [],
};
const good = { age: 31.5, visits: 3, plan: 'pro', active: true };

describe('validateRows', () => {
  it('accepts good rows, bigints for numbers, nulls where nullable, and ignores extra fields', () => {
    expect(() => validateRows(SIG, [good, { age: null, visits: 2n, plan: null, active: false, id: 'x-1', churned: true }])).not.toThrow();
  });

  it.each([
    [{ ...good, visits: undefined }, 1, 'visits', /is missing/],
    [(({ age: _a, ...rest }) => rest)(good), 1, 'age', /is missing/],
    [{ ...good, visits: 2.5 }, 1, 'visits', /must be a long \(an integer\), got number 2\.5/],
    [{ ...good, age: '31' }, 1, 'age', /must be a double \(a number\), got the string "31"/],
    [{ ...good, active: 1 }, 1, 'active', /must be a boolean/],
    [{ ...good, plan: 7 }, 1, 'plan', /must be a string/],
    [{ ...good, visits: null }, 1, 'visits', /is null, but the signature does not allow nulls/],
  ] as [Record<string, unknown>, number, string, RegExp][])('row %# names the field and the row', (bad, row, field, message) => {
    const err = failure(() => validateRows(SIG, [good, bad]));
    expect(err.code).toBe('FW_INVALID_ARGUMENT');
    expect(err.message).toMatch(new RegExp(`^row ${row}: field "${field}"`));
    expect(err.message).toMatch(message);
    expect(err.details).toEqual({ row, field });
  });

  it('refuses rows that are not objects', () => {
    expect(failure(() => validateRows(SIG, [good, 'x'])).message).toMatch(/^row 1 must be an object/);
    expect(failure(() => validateRows(SIG, {} as never)).message).toMatch(/^rows must be an array/);
  });
});

describe('rowsToColumns and back', () => {
  const rows = [good, { age: null, visits: 7n, plan: null, active: false, extra: 1 }];

  it('writes numbers into typed arrays (NaN for null, booleans 1/0) and keeps strings', () => {
    const { n, columns } = rowsToColumns(SIG, rows);
    expect(n).toBe(2);
    expect(columns.age).toBeInstanceOf(Float64Array);
    expect(Array.from(columns.age as Float64Array)).toEqual([31.5, NaN]);
    expect(Array.from(columns.visits as Float64Array)).toEqual([3, 7]);
    expect(Array.from(columns.active as Float64Array)).toEqual([1, 0]);
    expect(columns.plan).toEqual(['pro', null]);
    expect(Object.keys(columns)).toEqual(['age', 'visits', 'plan', 'active']);
    expect(rowsToColumns(SIG, rows, { float32: true }).columns.age).toBeInstanceOf(Float32Array);
  });

  it('fails like validateRows', () => {
    expect(failure(() => rowsToColumns(SIG, [good, { ...good, visits: 'many' }])).message).toMatch(/^row 1: field "visits" must be a long/);
  });

  it('columns back to rows give the signature fields', () => {
    const { n, columns } = rowsToColumns(SIG, rows);
    expect(columnsToRows(SIG, columns, n)).toEqual([good, { age: null, visits: 7, plan: null, active: false }]);
  });

  it('checkColumns counts rows and names a missing, short or mistyped column', () => {
    const cols = { age: new Float32Array([1, 2]), visits: new BigInt64Array([1n, 2n]), plan: ['a', null], active: new Uint8Array([0, 1]) };
    expect(checkColumns(SIG, cols)).toBe(2);
    expect(failure(() => checkColumns(SIG, { ...cols, visits: undefined })).message).toMatch(/^column "visits" is missing/);
    expect(failure(() => checkColumns(SIG, { ...cols, active: new Uint8Array(3) })).message).toMatch(/^column "active" has 3 values, other columns 2/);
    expect(failure(() => checkColumns(SIG, { ...cols, plan: ['a', 3] })).message).toMatch(/^row 1: field "plan" must be a string/);
    expect(failure(() => checkColumns(SIG, { ...cols, visits: [1, null] })).message).toMatch(/^row 1: field "visits" is null/);
  });
});
