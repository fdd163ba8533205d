/**
 * MLflow `/invocations` request formats. The request bodies marked "MLflow
 * docs" are copied from MLflow's model deployment documentation
 * (docs/source/models.rst, "Deploy MLflow models" example requests).
 */
import { describe, expect, it } from 'vitest';
import type { ModelSignature } from '../../models/manifest.js';
import { invocationsResponse, parseCsvRecords, parseInvocations } from './mlflow.js';

function errorOf(fn: () => unknown): { code: string; message: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    return err as { code: string; message: string; details?: Record<string, unknown> };
  }
  throw new Error('expected an error');
}

const abc: ModelSignature = {
  inputs: [
    { name: 'a', type: 'double', nullable: false },
    { name: 'b', type: 'long', nullable: false },
    { name: 'c', type: 'double', nullable: true },
  ],
  outputs: [],
};
const abcRows = [
  { a: 1, b: 2, c: 3 },
  { a: 4, b: 5, c: 6 },
];
const JSON_TYPE = 'application/json';

describe('parseInvocations: JSON formats', () => {
  it('dataframe_split (MLflow docs)', () => {
    const body = `{
        "dataframe_split": {
            "columns": ["a", "b", "c"],
            "data": [[1, 2, 3], [4, 5, 6]]
        }
    }`;
    expect(parseInvocations(body, JSON_TYPE, abc)).toEqual({ rows: abcRows });
  });

  it('dataframe_split with an index, as pandas to_json(orient="split") writes it', () => {
    const body = { dataframe_split: { columns: ['c', 'a', 'b'], index: [7, 8], data: [[3, 1, 2], [6, 4, 5]] } };
    expect(parseInvocations(body, JSON_TYPE, abc).rows).toEqual(abcRows);
  });

  it('dataframe_split without columns takes values in signature order', () => {
    expect(parseInvocations({ dataframe_split: { data: [[1, 2, 3], [4, 5, 6]] } }, JSON_TYPE, abc).rows).toEqual(abcRows);
  });

  it('dataframe_split refuses a row of the wrong width, naming it', () => {
    const e = errorOf(() => parseInvocations({ dataframe_split: { columns: ['a', 'b', 'c'], data: [[1, 2, 3], [4, 5]] } }, JSON_TYPE, abc));
    expect(e.message).toBe('dataframe_split.data[1] must be a list of 3 values (one per column), got 2 values');
    expect(e.details).toMatchObject({ row: 1 });
  });

  it('dataframe_records (MLflow docs)', () => {
    const body = `{
        "dataframe_records": [
            {"a": 1,"b": 2,"c": 3},
            {"a": 4,"b": 5,"c": 6}
        ]
    }`;
    expect(parseInvocations(body, JSON_TYPE, abc)).toEqual({ rows: abcRows });
  });

  it('instances as a list of objects', () => {
    expect(parseInvocations({ instances: [{ a: 1, b: 2, c: 3, extra: 'x' }, { a: 4, b: 5, c: 6 }] }, JSON_TYPE, abc).rows).toEqual(abcRows);
  });

  it("refuses the MLflow docs' tensor-style instances example for a column signature, naming the field", () => {
    const body = `{
        "instances": [
            {"a": "s1", "b": 1, "c": [1, 2, 3]},
            {"a": "s2", "b": 2, "c": [4, 5, 6]},
            {"a": "s3", "b": 3, "c": [7, 8, 9]}
        ]
    }`;
    const sig: ModelSignature = { inputs: [{ name: 'a', type: 'string' }, { name: 'b', type: 'long' }, { name: 'c', type: 'double' }], outputs: [] };
    const e = errorOf(() => parseInvocations(body, JSON_TYPE, sig));
    expect(e.message).toBe('row 0: field "c" must be a double (a number), got an array');
    expect(e.details).toEqual({ row: 0, field: 'c' });
  });

  it('inputs as an object of columns (MLflow docs shape, with signature columns)', () => {
    const body = `{
        "inputs": {"a": [1, 4], "b": [2, 5], "c": [3, 6]}
    }`;
    expect(parseInvocations(body, JSON_TYPE, abc).rows).toEqual(abcRows);
    const e = errorOf(() => parseInvocations({ inputs: { a: [1, 4], b: [2], c: [3, 6] } }, JSON_TYPE, abc));
    expect(e.message).toBe('The length of values for each input/column name are not the same');
  });

  it('inputs as positional lists (MLflow docs: {"inputs": [[1, 2], [3, 4], [5, 6]]})', () => {
    const two: ModelSignature = { inputs: [{ name: 'x', type: 'double' }, { name: 'y', type: 'double' }], outputs: [] };
    expect(parseInvocations('{"inputs": [[1, 2], [3, 4], [5, 6]]}', JSON_TYPE, two).rows).toEqual([
      { x: 1, y: 2 },
      { x: 3, y: 4 },
      { x: 5, y: 6 },
    ]);
    const e = errorOf(() => parseInvocations('{"inputs": [[1, 2, 3]]}', JSON_TYPE, two));
    expect(e.message).toBe('inputs[0] must be a list of 2 values in signature order (x, y), got 3 values');
  });

  it('instances as a list of scalars fits a one-input model only', () => {
    const one: ModelSignature = { inputs: [{ name: 'text', type: 'string' }], outputs: [] };
    expect(parseInvocations({ instances: ['hi', 'there'] }, JSON_TYPE, one).rows).toEqual([{ text: 'hi' }, { text: 'there' }]);
    const e = errorOf(() => parseInvocations({ instances: [1, 2] }, JSON_TYPE, abc));
    expect(e.message).toMatch(/^instances\[0\] is a single value \(number 1\), which fits only a model with one input; this model's inputs are a, b, c/);
  });

  it('returns params', () => {
    expect(parseInvocations({ dataframe_records: abcRows, params: { threshold: 0.3 } }, JSON_TYPE, abc)).toEqual({ rows: abcRows, params: { threshold: 0.3 } });
    expect(errorOf(() => parseInvocations({ dataframe_records: abcRows, params: [1] }, JSON_TYPE, abc)).message).toBe('params must be an object of parameter values, got an array');
  });

  it("refuses none or several format keys with MLflow's wording", () => {
    const required = "The input must be a JSON dictionary with exactly one of the input fields {'dataframe_records', 'dataframe_split', 'inputs', 'instances'}";
    let e = errorOf(() => parseInvocations({ columns: ['a'], data: [[1]], index: [0] }, JSON_TYPE, abc));
    expect(e.code).toBe('FW_INVALID_ARGUMENT');
    expect(e.message).toBe(`${required}. Received dictionary with input fields: ['columns', 'data', 'index'].`);
    e = errorOf(() => parseInvocations({ instances: abcRows, inputs: abcRows }, JSON_TYPE, abc));
    expect(e.message).toBe(`${required}. Received dictionary with input fields: ['instances', 'inputs'].`);
    e = errorOf(() => parseInvocations('[{"a": 1}]', JSON_TYPE, abc));
    expect(e.message).toBe(`${required}. Received a list.`);
  });

  it("reads Python's bare NaN and refuses Infinity by field", () => {
    expect(parseInvocations('{"dataframe_records": [{"a": 1, "b": 2, "c": NaN}]}', JSON_TYPE, abc).rows).toEqual([{ a: 1, b: 2, c: null }]);
    const e = errorOf(() => parseInvocations('{"dataframe_records": [{"a": Infinity, "b": 2, "c": 1}]}', JSON_TYPE, abc));
    expect(e.message).toBe('row 0: field "a" is Infinity; only finite numbers are accepted');
  });

  it('names the row and field of a value that does not fit the signature', () => {
    const e = errorOf(() => parseInvocations({ dataframe_split: { columns: ['a', 'b', 'c'], data: [[1, 2, 3], [4, 'five', 6]] } }, JSON_TYPE, abc));
    expect(e.message).toBe('row 1: field "b" must be a long (an integer), got the string "five"');
    expect(e.details).toEqual({ row: 1, field: 'b' });
  });

  it('refuses other content types and charsets', () => {
    let e = errorOf(() => parseInvocations('a', 'text/plain', abc));
    expect(e.message).toBe("This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got 'text/plain'.");
    e = errorOf(() => parseInvocations('{}', 'application/json; charset=latin-1', abc));
    expect(e.message).toBe('The scoring server only supports UTF-8');
    e = errorOf(() => parseInvocations('{}', 'application/json; format=pandas-records', abc));
    expect(e.message).toBe('Unrecognized content type parameters: format.');
    expect(parseInvocations({ dataframe_records: abcRows }, 'application/json; charset=UTF-8', abc).rows).toEqual(abcRows);
  });
});

describe('parseInvocations: CSV', () => {
  const sig: ModelSignature = {
    inputs: [
      { name: 'age', type: 'double', nullable: true },
      { name: 'visits', type: 'long', nullable: false },
      { name: 'member', type: 'boolean', nullable: false },
      { name: 'city', type: 'string', nullable: true },
    ],
    outputs: [],
  };

  it('parses a header row, numbers and booleans for non-string columns, empty cells as null', () => {
    // pandas DataFrame.to_csv(index=False) output: True/False booleans, empty cell for NaN/None.
    const csv = 'age,visits,member,city\n41.5,3,True,Oslo\n,0,False,\n1e3,-2,true,"Bergen, NO"\n';
    expect(parseInvocations(csv, 'text/csv', sig)).toEqual({
      rows: [
        { age: 41.5, visits: 3, member: true, city: 'Oslo' },
        { age: null, visits: 0, member: false, city: null },
        { age: 1000, visits: -2, member: true, city: 'Bergen, NO' },
      ],
    });
  });

  it('keeps digits in string columns as text, and extra columns (a pandas index) out of the rows', () => {
    const csv = ',age,visits,member,city\n0,1,2,false,007\r\n';
    expect(parseInvocations(csv, 'text/csv; charset=utf-8', sig).rows).toEqual([{ age: 1, visits: 2, member: false, city: '007' }]);
  });

  it('names the field of a cell that does not parse', () => {
    let e = errorOf(() => parseInvocations('age,visits,member,city\n1,x,true,a\n', 'text/csv', sig));
    expect(e.message).toBe('row 0: field "visits" must be a long (an integer), got the string "x"');
    e = errorOf(() => parseInvocations('age,visits,member,city\n1,1,yes,a\n', 'text/csv', sig));
    expect(e.message).toBe('row 0: field "member" must be a boolean, got the string "yes"');
    e = errorOf(() => parseInvocations('age,visits,member,city\ninf,1,true,a\n', 'text/csv', sig));
    expect(e.message).toBe('row 0: field "age" is Infinity; only finite numbers are accepted');
    e = errorOf(() => parseInvocations('age,visits,member\n1,1,true\n', 'text/csv', sig));
    expect(e.message).toBe('row 0: field "city" is missing (the signature requires it)');
  });

  it('reads NaN in a double column as a missing value', () => {
    expect(parseInvocations('age,visits,member,city\nNaN,1,true,a\n', 'text/csv', sig).rows[0].age).toBeNull();
  });

  it('refuses ragged records and empty bodies', () => {
    expect(errorOf(() => parseInvocations('age,visits,member,city\n1,2,true\n', 'text/csv', sig)).message).toBe('Failed to parse input as CSV: line 2 has 3 fields, the header 4');
    expect(errorOf(() => parseInvocations('', 'text/csv', sig)).message).toMatch(/^Failed to parse input as CSV: the body is empty/);
  });

  it('splits records per RFC 4180: quoted commas, doubled quotes, newlines inside quotes, CRLF', () => {
    expect(parseCsvRecords('a,b\r\n"x, y","say ""hi"""\n"multi\nline",\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['multi\nline', ''],
    ]);
    expect(() => parseCsvRecords('a\n"open')).toThrow(/quoted field is not closed/);
  });
});

describe('invocationsResponse', () => {
  it('answers {"predictions": [...]} with labels or values, plus the prediction ids', () => {
    expect(invocationsResponse([{ prediction: 'yes', probability: [0.2, 0.8] }, { prediction: 'no' }], ['p1', 'p2'])).toEqual({ predictions: ['yes', 'no'], prediction_ids: ['p1', 'p2'] });
    expect(JSON.stringify(invocationsResponse([{ prediction: 1.5 }], ['p1']))).toBe('{"predictions":[1.5],"prediction_ids":["p1"]}');
  });
});
