/** The charts' arithmetic and drawing (runtime/operations/charts.ts, charts-svg.ts): the day's projection, the bars, escaping. */
import { describe, expect, it } from 'vitest';
import { lastDayHours, PROJECTION_MIN_MS, projectDay } from './charts.ts';
import { effectsChart, eventsChart, grouped, niceMax, percent, usageChart } from './charts-svg.ts';

const at = (iso: string) => Date.parse(iso);
/** The `<rect>` with these attributes, and its height. */
const bar = (svg: string, attrs: string) => {
  const tag = new RegExp(`<rect [^>]*${attrs}[^>]*>`).exec(svg)?.[0];
  return tag
    ? { tag, height: Number(/height="([\d.]+)"/.exec(tag)![1]), width: Number(/width="([\d.]+)"/.exec(tag)![1]) }
    : undefined;
};

describe("the day's projection", () => {
  it("is today's use over the fraction of the UTC day gone by", () => {
    expect(projectDay(600, at('2031-03-04T06:00:00.000Z'))).toBe(2_400);
    expect(projectDay(6, at('2031-03-04T05:30:00.000Z'))).toBe(26); // 6 × 24 / 5.5 = 26.18
    expect(projectDay(1_000, at('2031-03-04T12:00:00.000Z'))).toBe(2_000);
    expect(projectDay(99_000, at('2031-03-04T23:59:59.999Z'))).toBe(99_000);
    expect(projectDay(0, at('2031-03-04T18:00:00.000Z'))).toBe(0);
  });

  it('says nothing in the first hour of the day, when a few minutes would be multiplied by hundreds', () => {
    expect(PROJECTION_MIN_MS).toBe(3_600_000);
    expect(projectDay(50, at('2031-03-04T00:10:00.000Z'))).toBeNull();
    expect(projectDay(50, at('2031-03-04T00:59:59.999Z'))).toBeNull();
    expect(projectDay(50, at('2031-03-04T01:00:00.000Z'))).toBe(1_200);
  });
});

describe('the events chart', () => {
  const hours = lastDayHours(at('2031-03-04T05:30:00.000Z'));
  const zeros = () => hours.map(() => 0);

  it('spans the 24 hours ending with the current one', () => {
    expect(hours).toHaveLength(24);
    expect([hours[0], hours[23]]).toEqual(['2031-03-03T06:00:00.000Z', '2031-03-04T05:00:00.000Z']);
  });

  it('stacks one bar per hour and status, heights in proportion to the counts', () => {
    const other = zeros(),
      dead = zeros(),
      retrying = zeros();
    other[20] = 8;
    dead[20] = 2;
    retrying[21] = 4;
    const svg = eventsChart(hours, { other, dead_lettered: dead, retrying, replayed: zeros() });
    const ok = bar(svg, `data-hour="${hours[20]}" data-series="other" data-n="8"`)!;
    const red = bar(svg, `data-hour="${hours[20]}" data-series="dead_lettered" data-n="2"`)!;
    const amber = bar(svg, `data-hour="${hours[21]}" data-series="retrying" data-n="4"`)!;
    expect(ok.height / red.height).toBeCloseTo(4);
    expect(ok.height / amber.height).toBeCloseTo(2);
    // No bar for an hour and status with nothing in it.
    expect(svg.match(/<rect [^>]*data-series/g)).toHaveLength(3);
    expect(svg).toContain('<title>02:00 UTC: 2 dead-lettered</title>');
    // The axis tops out at a round number at or above the tallest bar (10 events).
    expect(svg).toMatch(/>10<\/text>/);
  });

  it('says so when nothing arrived', () => {
    expect(
      eventsChart(hours, { other: zeros(), dead_lettered: zeros(), retrying: zeros(), replayed: zeros() }),
    ).toContain('no events in the last 24 hours');
  });
});

describe('the effect failures chart', () => {
  it('draws a bar per provider, retried and dead-lettered side by side, and escapes what it prints', () => {
    const svg = effectsChart([
      { provider: 'resend', retrying: 6, dead_lettered: 2 },
      { provider: '<img src=x onerror=alert(1)>', retrying: 4, dead_lettered: 0 },
    ]);
    const resend = bar(svg, 'data-provider="resend" data-series="retrying" data-n="6"')!;
    const other = bar(svg, 'data-provider="&lt;img src=x onerror=alert\\(1\\)&gt;" data-series="retrying" data-n="4"')!;
    expect(resend.width / other.width).toBeCloseTo(1.5);
    expect(svg).not.toContain('<img');
    expect(svg).toContain('6 retried · 2 dead-lettered');
  });

  it('says so when no effect failed', () => {
    expect(effectsChart([])).toContain('no effect failed in the last 24 hours');
  });
});

describe('the usage chart', () => {
  it("draws today's use and the day's projection against the allowance, in red past it", () => {
    const svg = usageChart(
      [
        { metric: 'queue_operations', used: 2_500, allowance: 10_000, projected: 12_000 },
        { metric: 'kv_writes', used: 10, allowance: 1_000, projected: null },
      ],
      'free',
    );
    const used = bar(svg, 'data-metric="queue_operations" data-series="used" data-n="2500"')!;
    const projected = bar(svg, 'data-metric="queue_operations" data-series="projected" data-n="12000"')!;
    // The track is the allowance: a quarter used; the projection, past it, fills the track and is outlined in red.
    expect(used.width / projected.width).toBeCloseTo(0.25);
    expect(projected.tag).toContain('stroke="#f85149"');
    expect(svg).toContain('2,500 of 10,000 · projected 12,000 (120%): over the allowance');
    expect(svg).toContain('10 of 1,000 · too early in the day to project');
    expect(bar(svg, 'data-metric="kv_writes" data-series="projected"')).toBeUndefined();
  });
});

describe('helpers', () => {
  it('rounds an axis up to 1, 2 or 5 × 10ⁿ, and groups digits', () => {
    expect([0, 1, 3, 10, 11, 26, 101, 4_999].map(niceMax)).toEqual([1, 1, 5, 10, 20, 50, 200, 5_000]);
    expect([0, 999, 1_000, 100_000, 1_234_567].map(grouped)).toEqual(['0', '999', '1,000', '100,000', '1,234,567']);
    expect([0, 0.0012, 0.01, 0.994, 1.2].map(percent)).toEqual(['0%', '<1%', '1%', '99%', '120%']);
  });
});

describe('docs/charts.md', () => {
  it('states the figures the code and its tests use', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { ROOT } = await import('../../test/support/project.ts');
    const { ATTENTION_SAMPLE } = await import('../store/charts.ts');
    const { HOURLY_KEEP_MS } = await import('../lib/platform.ts');
    const doc = readFileSync(join(ROOT, 'docs/charts.md'), 'utf8').replace(/\s+/g, ' ');
    const scale = readFileSync(join(ROOT, 'test/worker/scale.test.ts'), 'utf8');
    const page = readFileSync(join(ROOT, 'runtime/operations/dashboard/charts.js'), 'utf8');
    expect(doc).toContain(`At most ${ATTENTION_SAMPLE} events of each attention status`);
    expect(doc).toContain(`at most ${ATTENTION_SAMPLE} events of each`);
    const budget = Number(/\['GET \/charts', \{ read: ([\d_]+), written: 0 \}/.exec(scale)![1]!.replace(/_/g, ''));
    expect(doc).toContain(`within ${grouped(budget)} rows read and 0 rows written`);
    expect(HOURLY_KEEP_MS).toBe(2 * 86_400_000);
    expect(doc).toContain('after two days');
    expect(page).toContain('}, 300000);');
    expect(doc).toContain('every 5 minutes while it is visible');
    expect(projectDay(600, at('2031-03-04T06:00:00.000Z'))).toBe(2_400);
    expect(doc).toContain('At 06:00 UTC, for example, 600 rows project to 2,400');
    const fill = (used: number) =>
      /fill="(#\w+)" data-metric="x" data-series="used"/.exec(
        usageChart([{ metric: 'x', used, allowance: 100, projected: null }], 'free'),
      )![1];
    expect([fill(79), fill(80), fill(99), fill(100)]).toEqual(['#3fb950', '#d29922', '#d29922', '#f85149']);
    expect(doc).toContain('amber at 80 % of the allowance and red at 100 %');
  });
});
