/** The closed set of error codes matches what the README documents, row for row. */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, FlywheelError } from './errors.js';

describe('error codes', () => {
  it('are documented in the README with their HTTP status and MLflow code', () => {
    const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const documented = [...readme.matchAll(/^\| `(FW_[A-Z_]+)` \| (\d{3}) \| `([A-Z_]+)` \|$/gm)].map((m) => [m[1], Number(m[2]), m[3]]);
    const actual = Object.entries(ERROR_CODES).map(([code, spec]) => [code, spec.status, spec.mlflow]);
    expect(documented).toEqual(actual);
  });

  it('are 4xx for bad input and 5xx only for configuration, capacity, readiness, a failing model and internal failures', () => {
    const serverSide = ['FW_CONFIG', 'FW_INTERNAL', 'FW_OVERLOADED', 'FW_NOT_READY', 'FW_PREDICTION_FAILED'];
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(spec.status >= 500).toBe(serverSide.includes(code));
    }
    const err = new FlywheelError('FW_NOT_FOUND', 'Run with id=x not found');
    expect([err.status, err.mlflowCode, err.code]).toEqual([404, 'RESOURCE_DOES_NOT_EXIST', 'FW_NOT_FOUND']);
  });
});
