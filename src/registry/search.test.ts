/** The registry's filter and order_by grammar (MLflow's SearchModelUtils / SearchModelVersionUtils). */
import { describe, expect, it } from 'vitest';
import { likeMatches, parseModelVersionFilter, parseModelVersionOrderBy, parseRegisteredModelFilter, parseRegisteredModelOrderBy } from './search.js';

describe('registered model filters', () => {
  it('reads name and tag clauses joined by AND', () => {
    expect(parseRegisteredModelFilter("name LIKE 'churn%' AND tags.team = \"growth\" and tags.`a b` != 'x'")).toEqual([
      { type: 'attribute', key: 'name', op: 'LIKE', value: 'churn%' },
      { type: 'tag', key: 'team', op: '=', value: 'growth' },
      { type: 'tag', key: 'a b', op: '!=', value: 'x' },
    ]);
    expect(parseRegisteredModelFilter('  ')).toEqual([]);
  });

  it('refuses other attributes, comparators, OR, and bare values, naming the position', () => {
    const cases: [string, number][] = [
      ["run_id = 'x'", 0],
      ["name > 'a'", 5],
      ["name = 'a' OR name = 'b'", 11],
      ['name = churn', 7],
      ["metrics.auc > 1", 0],
      ["name IN ('a')", 5],
    ];
    for (const [filter, position] of cases) {
      expect(() => parseRegisteredModelFilter(filter), filter).toThrow(expect.objectContaining({ code: 'FW_FILTER_SYNTAX', details: { position } }));
    }
  });
});

describe('model version filters', () => {
  it('reads name, run_id (also IN), source_path, version_number and tags', () => {
    expect(parseModelVersionFilter("name='churn' AND run_id IN ('a', 'b') AND source_path LIKE 'runs:/%' AND version_number >= 2 AND version_number != '3' AND tag.k ILIKE 'v%'")).toEqual([
      { type: 'attribute', key: 'name', op: '=', value: 'churn' },
      { type: 'attribute', key: 'run_id', op: 'IN', value: ['a', 'b'] },
      { type: 'attribute', key: 'source_path', op: 'LIKE', value: 'runs:/%' },
      { type: 'attribute', key: 'version_number', op: '>=', value: 2 },
      { type: 'attribute', key: 'version_number', op: '!=', value: 3 },
      { type: 'tag', key: 'k', op: 'ILIKE', value: 'v%' },
    ]);
  });

  it('refuses a list for name, a string for version_number and unknown attributes', () => {
    expect(() => parseModelVersionFilter("name IN ('a')")).toThrow(expect.objectContaining({ code: 'FW_FILTER_SYNTAX' }));
    expect(() => parseModelVersionFilter("version_number = 'x'")).toThrow(expect.objectContaining({ code: 'FW_FILTER_SYNTAX' }));
    expect(() => parseModelVersionFilter("stage = 'Production'")).toThrow(/valid attributes for model versions: name, run_id, source_path, version_number/);
  });
});

describe('order_by', () => {
  it('reads attributes with ASC/DESC and maps "timestamp" as MLflow does', () => {
    expect(parseRegisteredModelOrderBy(['name DESC', 'timestamp'])).toEqual([
      { key: 'name', ascending: false },
      { key: 'last_updated_timestamp', ascending: true },
    ]);
    expect(parseModelVersionOrderBy(['version_number desc', 'creation_timestamp ASC'])).toEqual([
      { key: 'version_number', ascending: false },
      { key: 'creation_timestamp', ascending: true },
    ]);
  });

  it('refuses unknown keys, tags, a bad direction and duplicates', () => {
    for (const items of [['run_id'], ['tags.x'], ['name UP'], ['name', 'name DESC']]) {
      expect(() => parseModelVersionOrderBy(items), items.join()).toThrow(expect.objectContaining({ code: 'FW_FILTER_SYNTAX' }));
    }
    expect(() => parseRegisteredModelOrderBy(['last_updated_timestamp', 'timestamp DESC'])).toThrow(/already ordered by/);
  });
});

describe('likeMatches', () => {
  it('follows SQL LIKE: % any run, _ one character, backslash escapes', () => {
    expect(likeMatches('false', 'f%', false)).toBe(true);
    expect(likeMatches('false', 'F%', false)).toBe(false);
    expect(likeMatches('false', 'F%', true)).toBe(true);
    expect(likeMatches('false', 'fals_', false)).toBe(true);
    expect(likeMatches('false', 'fal\\_e', false)).toBe(false);
    expect(likeMatches('a_c', 'a\\_c', false)).toBe(true);
    expect(likeMatches('a.c', 'a.c', false)).toBe(true);
    expect(likeMatches('abc', 'a.c', false)).toBe(false);
  });
});
