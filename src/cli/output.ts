/**
 * How the CLI shows things: aligned tables with truncated cells for people,
 * one JSON document for scripts, and the small formatters both use (times,
 * durations, metric values). Pure functions returning strings, plus `print`,
 * the one place commands write to stdout.
 */

export interface Column {
  header: string;
  /** Widest a cell may be before it is cut with "…"; undefined never cuts. */
  maxWidth?: number;
  /** Right-align (numbers). */
  align?: 'left' | 'right';
}

/** Cuts `text` to `width` characters, marking the cut with "…". */
export function truncate(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 1) return '…'.slice(0, width);
  return chars.slice(0, width - 1).join('') + '…';
}

function oneLine(text: string): string {
  return text.replace(/\r?\n|\r|\t/g, ' ');
}

/** Columns separated by two spaces, headers first, each column as wide as its widest cell. */
export function renderTable(columns: Column[], rows: string[][]): string {
  const cells = rows.map((row) => columns.map((c, i) => {
    const v = oneLine(row[i] ?? '');
    return c.maxWidth === undefined ? v : truncate(v, c.maxWidth);
  }));
  const widths = columns.map((c, i) => Math.max([...c.header].length, ...cells.map((r) => [...r[i]].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => {
        const pad = ' '.repeat(widths[i] - [...v].length);
        return columns[i].align === 'right' ? pad + v : i === values.length - 1 ? v : v + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

/** `key  value` lines for a record, keys aligned; used by `runs show`. */
export function renderPairs(pairs: [string, string][], indent = ''): string {
  if (pairs.length === 0) return `${indent}(none)\n`;
  const width = Math.max(...pairs.map(([k]) => [...k].length));
  return pairs.map(([k, v]) => `${indent}${k}${' '.repeat(width - [...k].length)}  ${oneLine(v)}`.trimEnd()).join('\n') + '\n';
}

/** JSON with non-finite numbers spelled as proto3 JSON spells them ("NaN", "Infinity", "-Infinity"). */
export function toJson(value: unknown): string {
  return (
    JSON.stringify(
      value,
      (_key, v) => (typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity') : v),
      2,
    ) + '\n'
  );
}

/** A metric value for a table: at most 6 significant digits, no trailing zeros. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e15)) return value.toExponential(4).replace(/\.?0+e/, 'e');
  return String(Number(value.toPrecision(6)));
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Epoch milliseconds as local `YYYY-MM-DD HH:MM:SS`. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** A span in milliseconds as `850ms`, `12.3s`, `4m 05s`, `2h 03m`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const totalS = Math.floor(s);
  if (totalS < 3600) return `${Math.floor(totalS / 60)}m ${pad2(totalS % 60)}s`;
  return `${Math.floor(totalS / 3600)}h ${pad2(Math.floor((totalS % 3600) / 60))}m`;
}

/** A byte count as `512 B`, `1.5 KiB`, `3.2 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** Writes to stdout (commands never call console.log, so output goes through one door). */
export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}
