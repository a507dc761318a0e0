/** Durations and sizes as a manifest author writes them: one unit, no spaces. */
import { describe, expect, it } from 'vitest';
import { DURATION_PATTERN, parseDuration, parseSize } from './duration.ts';

describe('parseDuration', () => {
  it('reads each unit into milliseconds', () => {
    expect(['250ms', '30s', '5m', '12h', '7d', '0s'].map(parseDuration)).toEqual([
      250, 30_000, 300_000, 43_200_000, 604_800_000, 0,
    ]);
  });

  it('refuses anything else, quoting the text and listing the units', () => {
    for (const text of ['5 minutes', '5', '1.5h', '-1s', '5M', '', '1h30m']) {
      expect(() => parseDuration(text)).toThrow(
        `invalid duration ${JSON.stringify(text)}: use a number and one of ms, s, m, h, d`,
      );
    }
  });

  it('accepts exactly what the schema pattern (the manifest check) accepts', () => {
    const pattern = new RegExp(DURATION_PATTERN);
    const parses = (text: string) => {
      try {
        parseDuration(text);
        return true;
      } catch {
        return false;
      }
    };
    for (const text of [
      '250ms',
      '7d',
      '5 minutes',
      '1.5h',
      '5M',
      'ms',
      's5',
      '5mss',
      '5constructor',
      '5__proto__',
      '05m',
    ])
      expect(parses(text)).toBe(pattern.test(text));
  });
});

describe('parseSize', () => {
  it('reads B, KiB and MiB into bytes (binary units)', () => {
    expect(['512B', '64KiB', '1MiB'].map(parseSize)).toEqual([512, 65_536, 1_048_576]);
  });

  it('refuses decimal units and spaces, quoting the text', () => {
    for (const text of ['1MB', '64 KiB', '1kib', '2GiB'])
      expect(() => parseSize(text)).toThrow(
        `invalid size ${JSON.stringify(text)}: use a number and one of B, KiB, MiB`,
      );
  });
});
