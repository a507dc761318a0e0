/**
 * Cron schedules for `switchyard dev`: wrangler dev never fires a Worker's cron triggers by itself, so the dev loop
 * reads `[triggers] crons` from wrangler.toml and fires each one at its time, as Cloudflare does (in UTC).
 * Five fields: minute, hour, day of month, month, day of week, each `*`, a number, a range `a-b`, a step `/n` or a
 * list `a,b`; months and weekdays also by name (JAN, MON). Weekday numbers are Cloudflare's: 1-7, Sunday = 1.
 */

/** One parsed schedule: the allowed values of each field. */
export interface Cron {
  expression: string;
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  /** 0 = Sunday. */
  weekdays: Set<number>;
  /** Both day fields are restricted: a day matches either (as in every cron). */
  eitherDay: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function field(text: string, min: number, max: number, names: string[] = [], nameBase = min): Set<number> {
  const value = (part: string): number => {
    const named = names.indexOf(part.toUpperCase());
    if (named !== -1) return named + nameBase;
    if (!/^[0-9]+$/.test(part)) throw new Error(`"${part}" is not a number${names.length ? ' or a name' : ''}`);
    return Number(part);
  };
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const [range, stepText] = item.split('/') as [string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!(Number.isInteger(step) && step > 0)) throw new Error(`step "${stepText}" must be a positive number`);
    let [from, to] =
      range === '*'
        ? [min, max]
        : range.includes('-')
          ? (range.split('-').map(value) as [number, number])
          : [value(range), stepText === undefined ? value(range) : max];
    if (from < min || to > max || from > to) throw new Error(`"${item}" is outside ${min}-${max}`);
    for (; from <= to; from += step) out.add(from);
  }
  return out;
}

/** Parses a cron expression; throws with what it cannot read. */
export function parseCron(expression: string): Cron {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5)
    throw new Error(`cron "${expression}": expected 5 fields (minute hour day month weekday), got ${parts.length}`);
  try {
    const [m, h, d, mo, w] = parts as [string, string, string, string, string];
    // Cloudflare numbers weekdays 1-7 from Sunday; its names are SUN-SAT.
    const weekdays = new Set([...field(w, 1, 7, WEEKDAYS, 1)].map((n) => n - 1));
    return {
      expression,
      minutes: field(m, 0, 59),
      hours: field(h, 0, 23),
      days: field(d, 1, 31),
      months: field(mo, 1, 12, MONTHS, 1),
      weekdays,
      eitherDay: d !== '*' && w !== '*',
    };
  } catch (error) {
    throw new Error(`cron "${expression}": ${(error as Error).message}`);
  }
}

/** The first minute strictly after `afterMs` that the schedule names (UTC), within a year and a day. */
export function nextRun(cron: Cron, afterMs: number): number | undefined {
  let t = Math.floor(afterMs / 60_000) * 60_000 + 60_000;
  for (let i = 0; i < 527_040; i++, t += 60_000) {
    const at = new Date(t);
    if (
      !cron.minutes.has(at.getUTCMinutes()) ||
      !cron.hours.has(at.getUTCHours()) ||
      !cron.months.has(at.getUTCMonth() + 1)
    )
      continue;
    const day = cron.days.has(at.getUTCDate());
    const weekday = cron.weekdays.has(at.getUTCDay());
    if (cron.eitherDay ? day || weekday : day && weekday) return t;
  }
  return undefined;
}

export interface CronClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: CronClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Fires `run(expression, scheduledTime)` at each schedule's times until stopped. A run that takes long (the server
 * restarting) is waited for; a time it overlapped is made up by one run, not many.
 */
export function scheduleCrons(
  crons: Cron[],
  run: (expression: string, scheduledTime: number) => Promise<void>,
  clock: CronClock = realClock,
): { stop(): void } {
  let stopped = false;
  const timers = new Set<unknown>();
  const arm = (cron: Cron, after: number) => {
    const at = nextRun(cron, after);
    if (at === undefined || stopped) return;
    // Timers cannot wait longer than about 24.8 days: wake up and re-arm.
    const wait = Math.min(Math.max(0, at - clock.now()), 2 ** 31 - 1);
    const timer = clock.setTimeout(() => {
      timers.delete(timer);
      if (stopped) return;
      if (clock.now() < at) return arm(cron, after);
      void run(cron.expression, at).finally(() => arm(cron, Math.max(at, clock.now() - 60_000)));
    }, wait);
    timers.add(timer);
  };
  for (const cron of crons) arm(cron, clock.now());
  return {
    stop() {
      stopped = true;
      for (const t of timers) clock.clearTimeout(t);
      timers.clear();
    },
  };
}
