/**
 * Open Inference Protocol (V2) REST shapes. The spec bodies quoted here are
 * copied from kserve/open-inference-protocol specification/protocol/inference_rest.md.
 */
import { describe, expect, it } from 'vitest';
import type { ModelSignature } from '../../models/manifest.js';
import { inferResponse, modelMetadata, parseInferRequest, serverMetadata, v2Error } from './v2.js';

function errorOf(fn: () => unknown): { code: string; message: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    return err as { code: string; message: string; details?: Record<string, unknown> };
  }
  throw new Error('expected an error');
}

const tabular: ModelSignature = {
  inputs: [
    { name: 'age', type: 'double', nullable: false },
    { name: 'income', type: 'double', nullable: true },
    { name: 'visits', type: 'long', nullable: false },
  ],
  outputs: [{ name: 'prediction', type: 'double' }],
};

const oneDouble: ModelSignature = { inputs: [{ name: 'x', type: 'double', nullable: false }], outputs: [] };
const oneBool: ModelSignature = { inputs: [{ name: 'x', type: 'boolean', nullable: false }], outputs: [] };
const oneString: ModelSignature = { inputs: [{ name: 'x', type: 'string', nullable: false }], outputs: [] };

const tensor = (name: string, datatype: string, shape: number[], data: unknown[]) => ({ name, datatype, shape, data });

describe('spec examples', () => {
  // The spec's inference request example, verbatim.
  const specRequest = `{
      "id" : "42",
      "inputs" : [
        {
          "name" : "input0",
          "shape" : [ 2, 2 ],
          "datatype" : "UINT32",
          "data" : [ 1, 2, 3, 4 ]
        },
        {
          "name" : "input1",
          "shape" : [ 3 ],
          "datatype" : "BOOL",
          "data" : [ true ]
        }
      ],
      "outputs" : [
        {
          "name" : "output0"
        }
      ]
    }`;
  const specSignature: ModelSignature = {
    inputs: [
      { name: 'input0', type: 'long', nullable: false },
      { name: 'input1', type: 'boolean', nullable: false },
    ],
    outputs: [],
  };

  it("refuses the spec's example request, whose input1 has shape [3] but one element", () => {
    const e = errorOf(() => parseInferRequest(JSON.parse(specRequest), specSignature));
    expect(e.code).toBe('FW_INVALID_ARGUMENT');
    expect(e.message).toBe('input "input1": shape [3] holds 3 elements, but data has 1');
    expect(e.details).toMatchObject({ field: 'input1' });
  });

  it("refuses the spec example's [2, 2] input as a per-column tensor (a column takes [N] or [N, 1])", () => {
    const body = JSON.parse(specRequest);
    body.inputs[1].data = [true, false, true];
    delete body.outputs;
    const e = errorOf(() => parseInferRequest(body, specSignature));
    expect(e.message).toBe('input "input0": shape must be [N] or [N, 1] (one value per row), got [2, 2]');
  });

  it("refuses the spec example's output0 as an unknown output", () => {
    const body = JSON.parse(specRequest);
    body.inputs[0].shape = [3];
    body.inputs[0].data = [1, 2, 3];
    body.inputs[1].data = [true, false, true];
    const e = errorOf(() => parseInferRequest(body, specSignature, { task: 'regression' }));
    expect(e.message).toBe('unknown output "output0": the model\'s outputs are prediction');
  });

  it("answers with the spec response's fields: model_name, model_version, id, parameters, outputs of {name, shape, datatype, data}", () => {
    // The spec's response example (its missing comma after "id" restored so it parses).
    const specResponse = JSON.parse(`{
      "id" : "42",
      "outputs" : [
        {
          "name" : "output0",
          "shape" : [ 3, 2 ],
          "datatype"  : "FP32",
          "data" : [ 1.0, 1.1, 2.0, 2.1, 3.0, 3.1 ]
        }
      ]
    }`);
    const res = inferResponse({
      modelName: 'churn',
      modelVersion: '3',
      id: '42',
      predictions: [{ prediction: 1.5 }, { prediction: 2.5 }, { prediction: 3.5 }],
      task: 'regression',
      classes: null,
      predictionIds: ['p1', 'p2', 'p3'],
    });
    expect(res.id).toBe(specResponse.id);
    expect(Object.keys(res.outputs[0]).sort()).toEqual(Object.keys(specResponse.outputs[0]).sort());
    expect(res).toEqual({
      model_name: 'churn',
      model_version: '3',
      id: '42',
      parameters: { prediction_ids: ['p1', 'p2', 'p3'] },
      outputs: [{ name: 'prediction', shape: [3], datatype: 'FP64', data: [1.5, 2.5, 3.5] }],
    });
  });

  it('server metadata has the spec fields name, version, extensions', () => {
    expect(serverMetadata('0.1.0')).toEqual({ name: 'flywheel', version: '0.1.0', extensions: [] });
  });

  it('errors are {"error": message}', () => {
    expect(v2Error('boom')).toEqual({ error: 'boom' });
  });
});

describe('modelMetadata', () => {
  const signature: ModelSignature = {
    inputs: [
      { name: 'age', type: 'double' },
      { name: 'visits', type: 'long' },
      { name: 'city', type: 'string' },
      { name: 'member', type: 'boolean' },
    ],
    outputs: [],
  };

  it('maps signature types to datatypes with shape [-1]; a classifier with integer labels gives INT64 label and FP64 [-1, k] probabilities', () => {
    expect(modelMetadata({ name: 'churn', versions: ['1', '2'], platform: 'onnx_onnxv1', signature, task: 'classification', classes: ['0', '1', '2'] })).toEqual({
      name: 'churn',
      versions: ['1', '2'],
      platform: 'onnx_onnxv1',
      inputs: [
        { name: 'age', datatype: 'FP64', shape: [-1] },
        { name: 'visits', datatype: 'INT64', shape: [-1] },
        { name: 'city', datatype: 'BYTES', shape: [-1] },
        { name: 'member', datatype: 'BOOL', shape: [-1] },
      ],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP64', shape: [-1, 3] },
      ],
    });
  });

  it('gives BYTES labels when any class is not an integer', () => {
    for (const classes of [['cat', 'dog'], ['1', 'x'], ['1.5', '2']]) {
      const m = modelMetadata({ name: 'm', versions: ['1'], platform: 'js', signature, task: 'classification', classes });
      expect(m.outputs[0]).toEqual({ name: 'label', datatype: 'BYTES', shape: [-1] });
    }
  });

  it('gives a regressor one FP64 prediction output', () => {
    const m = modelMetadata({ name: 'm', versions: ['1'], platform: 'js', signature, task: 'regression', classes: null });
    expect(m.outputs).toEqual([{ name: 'prediction', datatype: 'FP64', shape: [-1] }]);
  });
});

describe('parseInferRequest: layout (a), one tensor per column', () => {
  it('builds rows from flat [N] tensors and nested [N, 1] tensors', () => {
    const req = parseInferRequest(
      {
        id: 'req-1',
        parameters: { trace: true },
        inputs: [tensor('age', 'FP64', [2], [30, 40.5]), tensor('income', 'FP32', [2, 1], [[100], [200]]), tensor('visits', 'INT64', [2, 1], [1, 2])],
      },
      tabular,
    );
    expect(req).toEqual({
      id: 'req-1',
      parameters: { trace: true },
      rows: [
        { age: 30, income: 100, visits: 1 },
        { age: 40.5, income: 200, visits: 2 },
      ],
    });
  });

  it('names unknown and missing inputs', () => {
    const base = [tensor('age', 'FP64', [1], [30]), tensor('income', 'FP64', [1], [1]), tensor('visits', 'INT64', [1], [1])];
    let e = errorOf(() => parseInferRequest({ inputs: [...base, tensor('agee', 'FP64', [1], [1])] }, tabular));
    expect(e.message).toBe('unknown input "agee": the model\'s inputs are age, income, visits');
    expect(e.details).toEqual({ field: 'agee' });
    e = errorOf(() => parseInferRequest({ inputs: base.slice(0, 2) }, tabular));
    expect(e.message).toBe('missing input "visits": the model\'s inputs are age, income, visits');
    expect(e.details).toEqual({ field: 'visits' });
  });

  it('needs the same row count in every column tensor', () => {
    const e = errorOf(() => parseInferRequest({ inputs: [tensor('age', 'FP64', [2], [1, 2]), tensor('income', 'FP64', [1], [1]), tensor('visits', 'INT64', [2], [1, 2])] }, tabular));
    expect(e.message).toBe('input "income" has 1 rows, but input "age" has 2: every input needs one value per row');
  });

  it('refuses a tensor datatype that cannot carry its column, naming the input', () => {
    let e = errorOf(() => parseInferRequest({ inputs: [tensor('x', 'BYTES', [1], ['1.5'])] }, oneDouble));
    expect(e.code).toBe('FW_INVALID_ARGUMENT');
    expect(e.message).toBe('input "x": datatype BYTES cannot carry signature input "x" of type double (send FP64)');
    expect(e.details).toEqual({ field: 'x' });
    e = errorOf(() => parseInferRequest({ inputs: [tensor('x', 'BOOL', [1], [true])] }, oneDouble));
    expect(e.message).toContain('datatype BOOL cannot carry');
    e = errorOf(() => parseInferRequest({ inputs: [tensor('x', 'FP64', [1], [1])] }, oneString));
    expect(e.message).toBe('input "x": datatype FP64 cannot carry signature input "x" of type string (send BYTES)');
    e = errorOf(() => parseInferRequest({ inputs: [tensor('x', 'INT8', [1], [1])] }, oneBool));
    expect(e.message).toBe('input "x": datatype INT8 cannot carry signature input "x" of type boolean (send BOOL)');
  });

  it('lets a float tensor carry a long column when the values are integers, and names the field when not', () => {
    const sig: ModelSignature = { inputs: [{ name: 'n', type: 'long' }], outputs: [] };
    expect(parseInferRequest({ inputs: [tensor('n', 'FP64', [2], [1, 2])] }, sig).rows).toEqual([{ n: 1 }, { n: 2 }]);
    const e = errorOf(() => parseInferRequest({ inputs: [tensor('n', 'FP64', [2], [1, 2.5])] }, sig));
    expect(e.message).toBe('row 1: field "n" must be a long (an integer), got number 2.5');
  });

  it('refuses a duplicated input', () => {
    const e = errorOf(() => parseInferRequest({ inputs: [tensor('x', 'FP64', [1], [1]), tensor('x', 'FP64', [1], [2])] }, oneDouble));
    expect(e.message).toBe('input "x" appears twice');
  });
});

describe('parseInferRequest: tensor data', () => {
  it('accepts nested data matching the shape and flat data of the same length alike', () => {
    const nested = parseInferRequest({ inputs: [tensor('m', 'FP64', [2, 3], [[1, 2, 3], [4, 5, 6]])] }, tabular);
    const flat = parseInferRequest({ inputs: [tensor('m', 'FP64', [2, 3], [1, 2, 3, 4, 5, 6])] }, tabular);
    expect(nested.rows).toEqual(flat.rows);
  });

  it('refuses nesting that does not match the shape', () => {
    let e = errorOf(() => parseInferRequest({ inputs: [tensor('m', 'FP64', [2, 3], [[1, 2, 3], [4, 5]])] }, tabular));
    expect(e.message).toBe('input "m": data[1] has 2 elements, but shape [2, 3] says 3');
    e = errorOf(() => parseInferRequest({ inputs: [tensor('m', 'FP64', [2, 3], [[1, 2, 3], 4])] }, tabular));
    expect(e.message).toMatch(/^input "m": data\[1\] must be an array of 3 elements/);
    e = errorOf(() => parseInferRequest({ inputs: [tensor('x', 'FP64', [2], [[1], [2]])] }, oneDouble));
    expect(e.message).toBe('input "x": data[0] is nested deeper than shape [2]');
    e = errorOf(() => parseInferRequest({ inputs: [tensor('m', 'FP64', [3, 2], [[1, 2, 3], [4, 5, 6]])] }, tabular));
    expect(e.message).toBe('input "m": data has 2 elements, but shape [3, 2] says 3');
  });

  it('says both numbers when the shape and the flat data length disagree', () => {
    let e = errorOf(() => parseInferRequest({ inputs: [tensor('x', 'FP64', [4], [1, 2, 3])] }, oneDouble));
    expect(e.message).toBe('input "x": shape [4] holds 4 elements, but data has 3');
    e = errorOf(() => parseInferRequest({ inputs: [tensor('m', 'FP64', [2, 3], [1, 2, 3, 4, 5, 6, 7])] }, tabular));
    expect(e.message).toBe('input "m": shape [2, 3] holds 6 elements, but data has 7');
  });

  it('refuses malformed shapes and data', () => {
    for (const shape of [[], [-1], [1.5], ['2'], null]) {
      const e = errorOf(() => parseInferRequest({ inputs: [{ name: 'x', datatype: 'FP64', shape, data: [1] }] }, oneDouble));
      expect(e.message).toMatch(/^input "x": shape must be a non-empty array of non-negative integers/);
    }
    const e = errorOf(() => parseInferRequest({ inputs: [{ name: 'x', datatype: 'FP64', shape: [1], data: 1 }] }, oneDouble));
    expect(e.message).toBe('input "x": data must be an array, got number 1');
  });

  it('refuses a datatype outside the spec set', () => {
    for (const datatype of ['FLOAT64', 'BF16', 'fp64', 'STRING', 3, undefined]) {
      const e = errorOf(() => parseInferRequest({ inputs: [{ name: 'x', datatype, shape: [1], data: [1] }] }, oneDouble));
      expect(e.code).toBe('FW_INVALID_ARGUMENT');
      expect(e.message).toMatch(/^input "x": datatype must be one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES, got/);
    }
  });

  // [datatype, accepted values, refused values]; bounds from the type widths (two's complement, IEEE 754 half/single).
  const numericCases: [string, unknown[], unknown[]][] = [
    ['UINT8', [0, 255], [-1, 256, 1.5, '1', true]],
    ['UINT16', [0, 65535], [-1, 65536, 0.5]],
    ['UINT32', [0, 4294967295], [-1, 4294967296, 2.5]],
    ['UINT64', [0, 2 ** 53], [-1, 2 ** 65, 0.1]],
    ['INT8', [-128, 127], [-129, 128, 1.5]],
    ['INT16', [-32768, 32767], [-32769, 32768]],
    ['INT32', [-2147483648, 2147483647], [-2147483649, 2147483648, 'NaN']],
    ['INT64', [-(2 ** 53), 2 ** 53], [2 ** 64, -(2 ** 64), 1.25, 'Infinity']],
    ['FP16', [0.5, 65504, -65504], [65520, -70000, 'abc', false]],
    ['FP32', [1e-30, 3.4e38, -3.4e38], [3.5e38, -1e39, '1.5']],
    ['FP64', [1.7976931348623157e308, -5e-324], ['x', true]],
  ];

  for (const [datatype, accepted, refused] of numericCases) {
    it(`${datatype}: accepts ${accepted.map(String).join(', ')}; refuses ${refused.map((v) => JSON.stringify(v)).join(', ')}`, () => {
      for (const v of accepted) {
        expect(parseInferRequest({ inputs: [tensor('x', datatype, [1], [v])] }, oneDouble).rows).toEqual([{ x: v }]);
      }
      for (const v of refused) {
        const e = errorOf(() => parseInferRequest({ inputs: [tensor('x', datatype, [2], [accepted[0], v])] }, oneDouble));
        expect(e.code).toBe('FW_INVALID_ARGUMENT');
        expect(e.message).toMatch(new RegExp(`^input "x": element 1 must be one of ${datatype}'s values`));
        expect(e.details).toEqual({ field: 'x', element: 1 });
      }
    });
  }

  it('BOOL takes booleans only', () => {
    expect(parseInferRequest({ inputs: [tensor('x', 'BOOL', [2], [true, false])] }, oneBool).rows).toEqual([{ x: true }, { x: false }]);
    for (const v of [1, 0, 'true']) {
      expect(errorOf(() => parseInferRequest({ inputs: [tensor('x', 'BOOL', [1], [v])] }, oneBool)).message).toMatch(/^input "x": element 0 must be one of BOOL's values \(booleans\)/);
    }
  });

  it('BYTES takes strings only', () => {
    expect(parseInferRequest({ inputs: [tensor('x', 'BYTES', [2], ['Oslo', ''])] }, oneString).rows).toEqual([{ x: 'Oslo' }, { x: '' }]);
    for (const v of [1, true, { a: 1 }]) {
      expect(errorOf(() => parseInferRequest({ inputs: [tensor('x', 'BYTES', [1], [v])] }, oneString)).message).toMatch(/^input "x": element 0 must be one of BYTES's values \(strings\)/);
    }
  });

  it('FP tensors carry "NaN" as a missing value (nullable inputs only) and refuse Infinity by field', () => {
    const sig: ModelSignature = { inputs: [{ name: 'a', type: 'double', nullable: false }, { name: 'b', type: 'double', nullable: true }], outputs: [] };
    expect(parseInferRequest({ inputs: [tensor('a', 'FP32', [1], [1]), tensor('b', 'FP32', [1], ['NaN'])] }, sig).rows).toEqual([{ a: 1, b: null }]);
    let e = errorOf(() => parseInferRequest({ inputs: [tensor('a', 'FP64', [1], ['NaN']), tensor('b', 'FP64', [1], [1])] }, sig));
    expect(e.message).toBe('row 0: field "a" is NaN (a missing value), but the signature does not allow nulls for it');
    expect(e.details).toEqual({ row: 0, field: 'a' });
    e = errorOf(() => parseInferRequest({ inputs: [tensor('a', 'FP64', [1], [1]), tensor('b', 'FP64', [1], ['-Infinity'])] }, sig));
    expect(e.message).toBe('row 0: field "b" is -Infinity; only finite numbers are accepted');
  });

  it('takes JSON null as a missing value, accepted only for nullable inputs', () => {
    expect(parseInferRequest({ inputs: [tensor('age', 'FP64', [1], [1]), tensor('income', 'FP64', [1], [null]), tensor('visits', 'INT64', [1], [1])] }, tabular).rows).toEqual([
      { age: 1, income: null, visits: 1 },
    ]);
    const e = errorOf(() => parseInferRequest({ inputs: [tensor('age', 'FP64', [1], [null]), tensor('income', 'FP64', [1], [1]), tensor('visits', 'INT64', [1], [1])] }, tabular));
    expect(e.details).toEqual({ row: 0, field: 'age' });
  });
});

describe('parseInferRequest: layout (b), one [N, F] tensor', () => {
  it('reads columns in signature order', () => {
    const req = parseInferRequest({ inputs: [tensor('input-0', 'FP64', [2, 3], [[30, 100, 1], [40, 'NaN', 2]])] }, tabular);
    expect(req.rows).toEqual([
      { age: 30, income: 100, visits: 1 },
      { age: 40, income: null, visits: 2 },
    ]);
  });

  it('names the field of a bad value inside the matrix', () => {
    const e = errorOf(() => parseInferRequest({ inputs: [tensor('input-0', 'FP64', [2, 3], [30, 100, 1, 40, 50, 2.5])] }, tabular));
    expect(e.message).toBe('row 1: field "visits" must be a long (an integer), got number 2.5');
  });

  it('says how to send the matrix when its width is not the number of inputs', () => {
    const e = errorOf(() => parseInferRequest({ inputs: [tensor('input-0', 'FP64', [2, 2], [1, 2, 3, 4])] }, tabular));
    expect(e.message).toBe(
      'input "input-0" is not a signature input (the model\'s inputs are age, income, visits); send one tensor per input, or a single tensor of shape [N, 3] with columns in that order (got shape [2, 2])',
    );
  });

  it('refuses a matrix whose datatype cannot carry every column', () => {
    const sig: ModelSignature = { inputs: [{ name: 'age', type: 'double' }, { name: 'city', type: 'string' }], outputs: [] };
    const e = errorOf(() => parseInferRequest({ inputs: [tensor('m', 'FP64', [1, 2], [1, 2])] }, sig));
    expect(e.message).toBe('input "m": datatype FP64 cannot carry signature input "city" of type string (send BYTES)');
    expect(e.details).toEqual({ field: 'city' });
  });
});

describe('parseInferRequest: request fields', () => {
  const x = [tensor('x', 'FP64', [1], [1])];

  it('returns requested outputs in the order asked, checked against the task', () => {
    expect(parseInferRequest({ inputs: x, outputs: [{ name: 'probabilities' }, { name: 'label' }] }, oneDouble, { task: 'classification' }).requestedOutputs).toEqual(['probabilities', 'label']);
    expect(parseInferRequest({ inputs: x }, oneDouble).requestedOutputs).toBeUndefined();
    let e = errorOf(() => parseInferRequest({ inputs: x, outputs: [{ name: 'label' }] }, oneDouble, { task: 'regression' }));
    expect(e.message).toBe('unknown output "label": the model\'s outputs are prediction');
    e = errorOf(() => parseInferRequest({ inputs: x, outputs: [{ name: 'prediction' }, { name: 'prediction' }] }, oneDouble, { task: 'regression' }));
    expect(e.message).toBe('output "prediction" is requested twice');
    e = errorOf(() => parseInferRequest({ inputs: x, outputs: ['label'] }, oneDouble));
    expect(e.message).toMatch(/^outputs\[0\] must be an object \{name\}/);
  });

  it('refuses a body without inputs, a non-string id and non-object parameters', () => {
    expect(errorOf(() => parseInferRequest({}, oneDouble)).message).toMatch(/^inputs must be a non-empty array of tensors/);
    expect(errorOf(() => parseInferRequest({ inputs: [] }, oneDouble)).message).toMatch(/^inputs must be a non-empty array/);
    expect(errorOf(() => parseInferRequest([], oneDouble)).message).toMatch(/^the inference request must be a JSON object/);
    expect(errorOf(() => parseInferRequest({ id: 42, inputs: x }, oneDouble)).message).toBe('id must be a string, got number 42');
    expect(errorOf(() => parseInferRequest({ parameters: [], inputs: x }, oneDouble)).message).toBe('parameters must be an object, got an array');
  });
});

describe('inferResponse', () => {
  const base = { modelName: 'churn', modelVersion: '2', id: 'r1', predictionIds: ['a', 'b'] };

  it('gives integer labels as INT64 numbers and probabilities as a flat row-major [N, k] FP64 tensor', () => {
    const res = inferResponse({
      ...base,
      task: 'classification',
      classes: ['0', '1', '2'],
      predictions: [
        { prediction: '2', probability: [0.1, 0.2, 0.7] },
        { prediction: 0, probability: [0.6, 0.3, 0.1] },
      ],
    });
    expect(res).toEqual({
      model_name: 'churn',
      model_version: '2',
      id: 'r1',
      parameters: { prediction_ids: ['a', 'b'] },
      outputs: [
        { name: 'label', shape: [2], datatype: 'INT64', data: [2, 0] },
        { name: 'probabilities', shape: [2, 3], datatype: 'FP64', data: [0.1, 0.2, 0.7, 0.6, 0.3, 0.1] },
      ],
    });
  });

  it('gives other labels as BYTES strings', () => {
    const res = inferResponse({ ...base, task: 'classification', classes: ['no', 'yes'], predictions: [{ prediction: 'yes', probability: [0.2, 0.8] }, { prediction: 'no', probability: [0.9, 0.1] }] });
    expect(res.outputs[0]).toEqual({ name: 'label', shape: [2], datatype: 'BYTES', data: ['yes', 'no'] });
  });

  it('returns only the requested outputs, in the order asked', () => {
    const predictions = [{ prediction: '1', probability: [0.4, 0.6] }];
    const res = inferResponse({ ...base, predictionIds: ['a'], task: 'classification', classes: ['0', '1'], predictions, requestedOutputs: ['probabilities'] });
    expect(res.outputs).toEqual([{ name: 'probabilities', shape: [1, 2], datatype: 'FP64', data: [0.4, 0.6] }]);
    const both = inferResponse({ ...base, predictionIds: ['a'], task: 'classification', classes: ['0', '1'], predictions, requestedOutputs: ['probabilities', 'label'] });
    expect(both.outputs.map((o) => o.name)).toEqual(['probabilities', 'label']);
  });

  it('leaves out probabilities when the model gave none, and says so when they were requested', () => {
    const predictions = [{ prediction: 'yes' }];
    const res = inferResponse({ ...base, predictionIds: ['a'], task: 'classification', classes: ['no', 'yes'], predictions });
    expect(res.outputs.map((o) => o.name)).toEqual(['label']);
    const e = errorOf(() => inferResponse({ ...base, predictionIds: ['a'], task: 'classification', classes: ['no', 'yes'], predictions, requestedOutputs: ['probabilities'] }));
    expect(e.message).toBe('output "probabilities" was requested, but this model gives no class probabilities');
  });

  it('omits id when the request had none', () => {
    const res = inferResponse({ modelName: 'm', modelVersion: '1', predictions: [{ prediction: 0.5 }], task: 'regression', classes: null, predictionIds: ['a'] });
    expect(res).not.toHaveProperty('id');
    expect(res.outputs).toEqual([{ name: 'prediction', shape: [1], datatype: 'FP64', data: [0.5] }]);
  });
});
