/** D1 binds at most this many parameters in one statement. */
export const D1_MAX_BOUND_PARAMETERS = 100;

/** Splits a list into slices of at most `size` (a whole number), for statements within D1's parameter limit. */
export const chunk = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));
