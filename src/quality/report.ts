/**
 * A ValidationResult for people: one table row per check (✓/✗, name,
 * severity, observed value, unexpected rows and percent) and a summary line.
 * Used by `data validate` and by `data add --suite`.
 */
import { formatNumber, renderTable } from '../cli/output.js';
import type { CheckResult, ValidationResult } from './types.js';

/** 0…100 as `12.5%`, at most two decimals. */
export function formatPercent(value: number): string {
  return `${Number(value.toFixed(2))}%`;
}

function observed(c: CheckResult): string {
  if (c.skipped) return 'skipped';
  if (c.observed === null) return '-';
  // Row checks observe the passing fraction, which `mostly` is compared with.
  if (c.mostly !== null && typeof c.observed === 'number') return `${formatPercent(c.observed * 100)} pass`;
  if (typeof c.observed === 'number') return formatNumber(c.observed);
  return String(c.observed);
}

function unexpected(c: CheckResult): string {
  if (c.unexpectedCount === null) return '-';
  return `${c.unexpectedCount} (${formatPercent(c.unexpectedPercent ?? 0)})`;
}

export function renderValidation(result: ValidationResult, ref: string): string {
  const table = renderTable(
    [{ header: '' }, { header: 'CHECK', maxWidth: 60 }, { header: 'SEVERITY' }, { header: 'OBSERVED', maxWidth: 40 }, { header: 'UNEXPECTED', align: 'right' }, { header: 'NOTE', maxWidth: 60 }],
    result.checks.map((c) => [c.success ? '✓' : '✗', c.name, c.severity, observed(c), unexpected(c), c.message ?? '']),
  );
  const s = result.statistics;
  const verdict = result.success ? (s.warnings > 0 ? 'PASSED with warnings' : 'PASSED') : 'FAILED';
  const summary = `${ref} · suite ${result.suite}: ${s.passed} of ${s.checks} checks passed, ${s.errors} error${s.errors === 1 ? '' : 's'}, ${s.warnings} warning${s.warnings === 1 ? '' : 's'} — ${verdict}`;
  return `${table}${summary}\n`;
}
