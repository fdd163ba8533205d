/** JSON bodies as real MLflow clients send them, including Python's bare NaN/Infinity. */
import { describe, expect, it } from 'vitest';
import { parseJsonBody, quoteNonFiniteLiterals } from './json-body.js';

describe('parseJsonBody', () => {
  it('parses standard JSON unchanged', () => {
    expect(parseJsonBody('{"a": [1, 2.5, "NaN"]}')).toEqual({ a: [1, 2.5, 'NaN'] });
    expect(parseJsonBody('')).toEqual({});
  });

  it("accepts Python json.dumps' bare NaN, Infinity and -Infinity as proto-JSON strings", () => {
    const body = '{"run_id": "r", "metrics": [{"key": "a", "value": NaN}, {"key": "b", "value": Infinity}, {"key": "c", "value": -Infinity}]}';
    expect(parseJsonBody(body)).toEqual({
      run_id: 'r',
      metrics: [
        { key: 'a', value: 'NaN' },
        { key: 'b', value: 'Infinity' },
        { key: 'c', value: '-Infinity' },
      ],
    });
  });

  it('leaves the words inside strings alone, including escaped quotes', () => {
    expect(quoteNonFiniteLiterals('{"k": "say \\"NaN\\" Infinity", "v": NaN}')).toBe('{"k": "say \\"NaN\\" Infinity", "v": "NaN"}');
  });

  it('reports where malformed JSON breaks, with a stable code', () => {
    expect(() => parseJsonBody('{"a": 1,\n "b" 2}')).toThrow(expect.objectContaining({ code: 'FW_MALFORMED_REQUEST', message: expect.stringContaining('line 2') }));
    expect(() => parseJsonBody('{"a": NaNa}')).toThrow(expect.objectContaining({ code: 'FW_MALFORMED_REQUEST' }));
  });
});
