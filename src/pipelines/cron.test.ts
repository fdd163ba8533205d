import { describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { compileCron } from './cron.js';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('compileCron', () => {
  it('computes the next fire time strictly after an instant', () => {
    expect(iso(compileCron('*/15 * * * *').next(t('2024-03-05T10:07:00Z')))).toBe('2024-03-05T10:15:00.000Z');
    expect(iso(compileCron('*/15 * * * *').next(t('2024-03-05T10:15:00Z')))).toBe('2024-03-05T10:30:00.000Z');
    expect(iso(compileCron('0 * * * *').next(t('2024-03-05T23:30:00Z')))).toBe('2024-03-06T00:00:00.000Z');
    // 2024-06-02 is a Sunday; the next Monday 09:00 UTC is 2024-06-03.
    expect(iso(compileCron('0 9 * * 1').next(t('2024-06-02T12:00:00Z')))).toBe('2024-06-03T09:00:00.000Z');
    // 09:00 in Berlin in June (CEST, UTC+2) is 07:00 UTC.
    expect(iso(compileCron('0 9 * * 1', 'Europe/Berlin').next(t('2024-06-02T12:00:00Z')))).toBe('2024-06-03T07:00:00.000Z');
  });

  it('counts the ticks in (after, upTo] and finds the latest, upTo included', () => {
    const c = compileCron('0 * * * *');
    expect(c.ticksIn(t('2024-01-01T10:00:00Z'), t('2024-01-01T10:59:59Z'))).toEqual({ count: 0 });
    expect(c.ticksIn(t('2024-01-01T10:00:00Z'), t('2024-01-01T11:00:00Z'))).toEqual({ count: 1, latest: t('2024-01-01T11:00:00Z') });
    expect(c.ticksIn(t('2024-01-01T10:00:00Z'), t('2024-01-01T13:30:00Z'))).toEqual({ count: 2, latest: t('2024-01-01T13:00:00Z') });
    expect(c.ticksIn(t('2024-01-01T10:00:00Z'), t('2024-01-01T12:00:00Z'))).toEqual({ count: 2, latest: t('2024-01-01T12:00:00Z') });
  });

  it('rejects a bad pattern or timezone with FW_INVALID_ARGUMENT', () => {
    expect(() => compileCron('61 * * * *')).toThrow(FlywheelError);
    expect(() => compileCron('61 * * * *')).toThrow(/^schedule "61 \* \* \* \*" \(timezone UTC\): .*minute/);
    expect(() => compileCron('0 * * * *', 'Mars/Olympus')).toThrow(/timezone Mars\/Olympus/);
  });
});
