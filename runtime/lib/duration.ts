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
  const ms = scaled(text, UNIT_MS);
  if (ms === undefined)
    throw new Error(`invalid duration ${JSON.stringify(text)}: use a number and one of ms, s, m, h, d`);
  return ms;
}

/**
 * Digits then a unit of `units`, as DURATION_PATTERN and the size pattern read them, scaled; undefined otherwise.
 * Read by hand: a regular expression would cost a new isolate's first compile its own compile.
 */
function scaled(text: string, units: Readonly<Record<string, number>>): number | undefined {
  let i = 0;
  while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  const unit = text.slice(i);
  return i > 0 && Object.hasOwn(units, unit) ? Number(text.slice(0, i)) * units[unit]! : undefined;
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
  const bytes = scaled(text, UNIT_BYTES);
  if (bytes === undefined) throw new Error(`invalid size ${JSON.stringify(text)}: use a number and one of B, KiB, MiB`);
  return bytes;
}
