/** Durations are written `250ms`, `30s`, `5m`, `12h` or `7d`: one schema fragment and one parser. */
export const DURATION_PATTERN = '^[0-9]+(ms|s|m|h|d)$';

export const durationSchema = {
  type: 'string',
  pattern: DURATION_PATTERN,
  description: 'A duration such as `250ms`, `30s`, `5m`, `12h` or `7d`.',
} as const;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration string into milliseconds.
 * @example parseDuration('5m') // 300000
 */
export function parseDuration(text: string): number {
  const match = /^([0-9]+)(ms|s|m|h|d)$/.exec(text);
  if (!match) throw new Error(`invalid duration ${JSON.stringify(text)}: use a number and one of ms, s, m, h, d`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** Sizes are written `512B`, `64KiB` or `1MiB`. */
export const sizeSchema = {
  type: 'string',
  pattern: '^[0-9]+(B|KiB|MiB)$',
  description: 'A size such as `512B`, `64KiB` or `1MiB`.',
} as const;

const UNIT_BYTES: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 * 1024 };

/** Parses a size string into bytes. */
export function parseSize(text: string): number {
  const match = /^([0-9]+)(B|KiB|MiB)$/.exec(text);
  if (!match) throw new Error(`invalid size ${JSON.stringify(text)}: use a number and one of B, KiB, MiB`);
  return Number(match[1]) * UNIT_BYTES[match[2]!]!;
}
