import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatNumber, renderPairs, renderTable, toJson, truncate } from './output.js';

describe('renderTable', () => {
  it('aligns columns two spaces apart under their headers', () => {
    const text = renderTable([{ header: 'ID', align: 'right' }, { header: 'NAME' }, { header: 'STAGE' }], [
      ['0', 'Default', 'active'],
      ['12', 'churn-model', 'deleted'],
    ]);
    expect(text).toBe(['ID  NAME         STAGE', ' 0  Default      active', '12  churn-model  deleted', ''].join('\n'));
  });

  it('cuts cells longer than the column allows and marks the cut', () => {
    const text = renderTable([{ header: 'NAME', maxWidth: 8 }, { header: 'X' }], [['abcdefghijkl', '1']]);
    expect(text).toBe('NAME      X\nabcdefg…  1\n');
  });

  it('keeps each row on one line', () => {
    expect(renderTable([{ header: 'V' }], [['a\nb\tc']])).toBe('V\na b c\n');
  });
});

describe('truncate', () => {
  it('leaves short text alone and counts characters, not UTF-16 units', () => {
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('😀😀😀😀', 3)).toBe('😀😀…');
  });
});

describe('renderPairs', () => {
  it('aligns values after the longest key', () => {
    expect(renderPairs([['lr', '0.01'], ['epochs', '10']], '  ')).toBe('  lr      0.01\n  epochs  10\n');
  });
  it('says (none) for an empty list', () => {
    expect(renderPairs([], '  ')).toBe('  (none)\n');
  });
});

describe('toJson', () => {
  it('spells non-finite numbers the proto3 JSON way', () => {
    expect(JSON.parse(toJson({ a: Number.NaN, b: Infinity, c: -Infinity, d: 1.5 }))).toEqual({ a: 'NaN', b: 'Infinity', c: '-Infinity', d: 1.5 });
  });
});

describe('formatters', () => {
  it('formats metric values with at most 6 significant digits', () => {
    expect(formatNumber(0.123456789)).toBe('0.123457');
    expect(formatNumber(42)).toBe('42');
    expect(formatNumber(0.5)).toBe('0.5');
    expect(formatNumber(0.00001234)).toBe('1.234e-5');
    expect(formatNumber(Number.NaN)).toBe('NaN');
    expect(formatNumber(-Infinity)).toBe('-Infinity');
  });

  it('formats durations at a readable scale', () => {
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(12_340)).toBe('12.3s');
    expect(formatDuration(245_000)).toBe('4m 05s');
    expect(formatDuration(7_380_000)).toBe('2h 03m');
    expect(formatDuration(null)).toBe('-');
  });

  it('formats byte counts in binary units', () => {
    expect(formatBytes(5)).toBe('5 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MiB');
  });
});
