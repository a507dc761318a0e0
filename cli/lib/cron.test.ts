/** The dev loop's cron schedules: when each fires (UTC, Cloudflare's fields) and that firing goes on across a restart. */
import { describe, expect, it } from 'vitest';
import { nextRun, parseCron, scheduleCrons, type CronClock } from './cron.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('nextRun', () => {
  it('names the next minute each schedule allows, strictly after the given time', () => {
    expect(iso(nextRun(parseCron('*/10 * * * *'), at('2026-12-07T18:21:30Z')))).toBe('2026-12-07T18:30:00.000Z');
    expect(iso(nextRun(parseCron('*/10 * * * *'), at('2026-12-07T18:30:00Z')))).toBe('2026-12-07T18:40:00.000Z');
    expect(iso(nextRun(parseCron('* * * * *'), at('2026-12-07T18:21:59.999Z')))).toBe('2026-12-07T18:22:00.000Z');
    expect(iso(nextRun(parseCron('0 3 * * *'), at('2026-12-07T18:00:00Z')))).toBe('2026-12-08T03:00:00.000Z');
    expect(iso(nextRun(parseCron('15,45 9-17/4 1 JAN,jul *'), at('2026-12-07T00:00:00Z')))).toBe(
      '2027-01-01T09:15:00.000Z',
    );
  });

  it('reads weekdays as Cloudflare does (1-7 from Sunday, or names), and either day field when both are set', () => {
    // 2026-12-07 is a Monday.
    expect(iso(nextRun(parseCron('0 0 * * 1'), at('2026-12-07T12:00:00Z')))).toBe('2026-12-13T00:00:00.000Z');
    expect(iso(nextRun(parseCron('0 0 * * MON'), at('2026-12-07T12:00:00Z')))).toBe('2026-12-14T00:00:00.000Z');
    expect(iso(nextRun(parseCron('0 0 20 * SUN'), at('2026-12-07T12:00:00Z')))).toBe('2026-12-13T00:00:00.000Z');
  });

  it('refuses what it cannot read, saying which expression and why', () => {
    expect(() => parseCron('*/10 * * *')).toThrow(/cron "\*\/10 \* \* \*": expected 5 fields/);
    expect(() => parseCron('61 * * * *')).toThrow(/"61" is outside 0-59/);
    expect(() => parseCron('*/0 * * * *')).toThrow(/step "0"/);
    expect(() => parseCron('0 0 L * *')).toThrow(/"L" is not a number/);
  });
});

/** A clock whose time moves only when the test says so, running the timers that come due. */
function fakeClock(start: number) {
  let now = start;
  const timers: { due: number; fn: () => void; id: number }[] = [];
  let next = 0;
  const clock: CronClock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = next++;
      timers.push({ due: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      const i = timers.findIndex((t) => t.id === id);
      if (i !== -1) timers.splice(i, 1);
    },
  };
  const advance = async (ms: number) => {
    const end = now + ms;
    for (;;) {
      timers.sort((a, b) => a.due - b.due);
      const t = timers[0];
      if (!t || t.due > end) break;
      timers.shift();
      now = Math.max(now, t.due);
      t.fn();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
    now = end;
  };
  return { clock, advance };
}

describe('scheduleCrons', () => {
  it('fires each schedule at its times, with the scheduled time, until stopped', async () => {
    const { clock, advance } = fakeClock(at('2026-12-07T18:21:30Z'));
    const runs: string[] = [];
    const schedule = scheduleCrons(
      [parseCron('*/10 * * * *')],
      async (cron, time) => void runs.push(`${cron} ${iso(time)}`),
      clock,
    );
    await advance(25 * 60_000);
    expect(runs).toEqual(['*/10 * * * * 2026-12-07T18:30:00.000Z', '*/10 * * * * 2026-12-07T18:40:00.000Z']);
    schedule.stop();
    await advance(60 * 60_000);
    expect(runs).toHaveLength(2);
  });

  it('waits for a run that cannot start yet (the server restarting), then makes up the missed times with one run', async () => {
    const { clock, advance } = fakeClock(at('2026-12-07T18:00:30Z'));
    const runs: string[] = [];
    let serverUp!: () => void;
    const up = new Promise<void>((r) => (serverUp = r));
    let first = true;
    scheduleCrons(
      [parseCron('* * * * *')],
      async (_cron, time) => {
        if (first) {
          first = false;
          await up;
        }
        runs.push(`${iso(time)} at ${iso(clock.now())}`);
      },
      clock,
    );
    await advance(60_000); // 18:01 is due; the server is down until 18:04:40
    await advance(3 * 60_000 + 10_000);
    serverUp();
    for (let i = 0; i < 5; i++) await Promise.resolve();
    await advance(60_000);
    expect(runs).toEqual([
      '2026-12-07T18:01:00.000Z at 2026-12-07T18:04:40.000Z',
      '2026-12-07T18:04:00.000Z at 2026-12-07T18:04:40.000Z',
      '2026-12-07T18:05:00.000Z at 2026-12-07T18:05:00.000Z',
    ]);
  });
});
