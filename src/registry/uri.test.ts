/** Model URI forms, and the ones refused, without a registry. */
import { describe, expect, it } from 'vitest';
import { parseModelUri } from './uri.js';

const RUN = '0123456789abcdef0123456789abcdef';

describe('parseModelUri', () => {
  it('reads versions, stages (any case), latest and aliases', () => {
    expect(parseModelUri('models:/churn/3')).toEqual({ kind: 'version', name: 'churn', version: 3 });
    expect(parseModelUri('models:/churn/production')).toEqual({ kind: 'stage', name: 'churn', stage: 'Production' });
    expect(parseModelUri('models:/churn/Staging')).toEqual({ kind: 'stage', name: 'churn', stage: 'Staging' });
    expect(parseModelUri('models:/churn/latest')).toEqual({ kind: 'latest', name: 'churn' });
    expect(parseModelUri('models:/churn@champion')).toEqual({ kind: 'alias', name: 'churn', alias: 'champion' });
    expect(parseModelUri('models:///churn@champion')).toEqual({ kind: 'alias', name: 'churn', alias: 'champion' });
    expect(parseModelUri('models:/my model.v2/10')).toEqual({ kind: 'version', name: 'my model.v2', version: 10 });
  });

  it('reads a bare reference as if models:/ were in front', () => {
    expect(parseModelUri('churn@challenger')).toEqual({ kind: 'alias', name: 'churn', alias: 'challenger' });
    expect(parseModelUri('churn/2')).toEqual({ kind: 'version', name: 'churn', version: 2 });
  });

  it('reads runs:/ URIs with a plain artifact path', () => {
    expect(parseModelUri(`runs:/${RUN}/model`)).toEqual({ kind: 'run', runId: RUN, artifactPath: 'model' });
    expect(parseModelUri(`runs:/${RUN}/models/churn/`)).toEqual({ kind: 'run', runId: RUN, artifactPath: 'models/churn' });
  });

  it('refuses what names no version, with the accepted forms in the message', () => {
    for (const bad of [
      'models:/churn',
      'models:churn/3',
      'models:/churn/3/x',
      'models:/churn/Prod',
      'models:/@champion',
      'models:/churn@latest',
      'models:/churn@v3',
      'models:/churn@bad alias',
      's3://bucket/model',
      `runs:/${RUN}`,
      `runs:/${RUN}/../x`,
      'runs:/not-a-run/model',
      '',
    ]) {
      expect(() => parseModelUri(bad), bad).toThrow(expect.objectContaining({ code: 'FW_INVALID_ARGUMENT' }));
    }
    expect(() => parseModelUri('models:/churn')).toThrow(/models:\/NAME@ALIAS/);
  });
});
