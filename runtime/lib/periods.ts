/** The periods limits and rate limits count over (UTC calendar periods), and their bounds. */
export const PERIODS = ['minute', 'hour', 'day', 'month'] as const;

export type Period = (typeof PERIODS)[number];

/** The start and end of the period containing `at` (UTC). */
export function periodBounds(period: Period, atMs: number): { start: string; end: string; endMs: number } {
  const d = new Date(atMs);
  let start: Date;
  let end: Date;
  switch (period) {
    case 'minute':
      start = new Date(
        Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()),
      );
      end = new Date(start.getTime() + 60_000);
      break;
    case 'hour':
      start = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()));
      end = new Date(start.getTime() + 3_600_000);
      break;
    case 'day':
      start = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
      end = new Date(start.getTime() + 86_400_000);
      break;
    default:
      start = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
      end = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
  }
  return { start: start.toISOString(), end: end.toISOString(), endMs: end.getTime() };
}
