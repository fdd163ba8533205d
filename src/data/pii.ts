/**
 * Personal-data detection for profiles. Each kind is a regular expression
 * (RE2 syntax, evaluated by DuckDB over a bounded sample of a column's
 * non-null values); payment cards additionally pass the Luhn checksum, which
 * runs here in JS on the few values the expression lets through. A column is
 * flagged when at least PII_MATCH_SHARE of its sampled values match.
 */
import type { PiiKind } from './types.js';

/** Non-null values per column that are checked. */
export const PII_SAMPLE_SIZE = 10_000;
/** Share of sampled values that must match for a column to be flagged. */
export const PII_MATCH_SHARE = 0.8;

const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const IPV4 = `${OCTET}(\\.${OCTET}){3}`;
const H = '[0-9A-Fa-f]{1,4}';
// The usual forms of RFC 4291 text: full, "::"-compressed, and with an IPv4 tail.
const IPV6 = [
  `(${H}:){7}${H}`,
  `(${H}:){1,7}:`,
  `(${H}:){1,6}:${H}`,
  `(${H}:){1,5}(:${H}){1,2}`,
  `(${H}:){1,4}(:${H}){1,3}`,
  `(${H}:){1,3}(:${H}){1,4}`,
  `(${H}:){1,2}(:${H}){1,5}`,
  `${H}:(:${H}){1,6}`,
  `:((:${H}){1,7}|:)`,
  `[Ff][Ee]80:(:${H}){0,4}%[0-9A-Za-z]+`,
  `::([Ff]{4}(:0{1,4})?:)?${IPV4}`,
  `(${H}:){1,4}:${IPV4}`,
].join('|');

/** Whole-value patterns (anchored by regexp_full_match). */
export const PII_PATTERNS: Record<PiiKind, string> = {
  email: "[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}",
  // International (+CC …) or national numbers written with separators: +1 (555) 123-4567, 555-123-4567, +44 20 7946 0958.
  phone: '(\\+[0-9]{1,3}[ .-]?)?(\\([0-9]{1,4}\\)[ .-]?)?[0-9]{2,4}([ .-][0-9]{2,5}){1,4}|\\+[0-9]{7,15}',
  // 13-19 digits, optionally grouped by spaces or dashes; Luhn is checked afterwards.
  payment_card: '[0-9]{4}([ -]?[0-9]{1,4}){2,4}[0-9]{0,3}',
  ip_address: `${IPV4}|${IPV6}`,
};

/** Extra SQL conditions on the value `v` (digit counts), so patterns stay simple. */
export function piiCondition(kind: PiiKind, v: string): string {
  const re = (p: string) => `regexp_full_match(${v}, '${p.replaceAll("'", "''")}')`;
  const digits = `length(regexp_replace(${v}, '[^0-9]', '', 'g'))`;
  switch (kind) {
    case 'phone':
      return `(${re(PII_PATTERNS.phone)} AND ${digits} BETWEEN 7 AND 15)`;
    case 'payment_card':
      return `(${re(PII_PATTERNS.payment_card)} AND ${digits} BETWEEN 13 AND 19)`;
    default:
      return re(PII_PATTERNS[kind]);
  }
}

/** The Luhn (mod 10) checksum of a digit string. */
export function luhnValid(digits: string): boolean {
  if (!/^[0-9]{2,}$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}
