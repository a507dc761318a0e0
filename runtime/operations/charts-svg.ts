/**
 * The console's charts as SVG, drawn by the Worker: no chart library in the page (its CSP runs one script, allowed by
 * hash, and the page ships inside the Worker's bundle). Plain strings, every text escaped; each bar carries its
 * numbers (`data-*`) and a `<title>` a pointer shows. The page parses them as SVG (never as HTML) and puts them in.
 */

import { EffectStatus, EventStatus } from '../store/status.ts';

const escapeXml = (v: string) =>
  v.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

/** 12345 as `12,345` (no Intl: the same digits in every runtime). */
export const grouped = (n: number) => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

const COLOURS = {
  ok: '#3fb950',
  info: '#58a6ff',
  warn: '#d29922',
  bad: '#f85149',
  dim: '#8b98a5',
  line: '#2a3441',
  track: '#0d1117',
} as const;
const FONT = 'font-family="system-ui, sans-serif" font-size="11"';

/** An `<svg>` of this size (it scales to its container's width) with a name for screen readers. */
const svg = (id: string, width: number, height: number, label: string, body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" id="${id}" class="chart" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${escapeXml(label)}" ${FONT}>${body}</svg>`;

const rect = (
  x: number,
  y: number,
  w: number,
  h: number,
  fill: string,
  data: Record<string, string | number>,
  title: string,
  extra = '',
) =>
  `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(0, w).toFixed(1)}" height="${Math.max(0, h).toFixed(1)}" fill="${fill}"${Object.entries(
    data,
  )
    .map(([k, v]) => ` data-${k}="${escapeXml(String(v))}"`)
    .join('')}${extra}><title>${escapeXml(title)}</title></rect>`;

const text = (x: number, y: number, content: string, attrs = '', fill: string = COLOURS.dim) =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" fill="${fill}"${attrs ? ` ${attrs}` : ''}>${escapeXml(content)}</text>`;

/** A fraction as a whole percentage; a use above 0 but under 1 % reads `<1%`, not `0%`. */
export const percent = (f: number) => (f > 0 && f < 0.01 ? '<1%' : `${Math.round(f * 100)}%`);

/** The smallest of 1, 2, 5 × 10ⁿ at or above `n` (a y axis's top), at least 1. */
export function niceMax(n: number): number {
  if (n <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(n));
  return [1, 2, 5, 10].map((m) => m * power).find((v) => v >= n)!;
}

/** The events chart's series, bottom to top, with their colours and names. */
export const EVENT_SERIES = [
  { key: 'other', colour: COLOURS.ok, name: 'applied, ignored or in flight' },
  { key: EventStatus.replayed, colour: COLOURS.info, name: EventStatus.replayed },
  { key: EventStatus.retrying, colour: COLOURS.warn, name: EventStatus.retrying },
  { key: EventStatus.dead_lettered, colour: COLOURS.bad, name: 'dead-lettered' },
] as const;
export type EventSeries = (typeof EVENT_SERIES)[number]['key'];

const legend = (items: readonly { colour: string; name: string }[], y: number, x0: number) => {
  let x = x0;
  return items
    .map((item) => {
      const out = `<rect x="${x}" y="${y - 9}" width="10" height="10" rx="2" fill="${item.colour}"/>${text(x + 14, y, item.name)}`;
      x += 24 + item.name.length * 6;
      return out;
    })
    .join('');
};

/** Events per hour received (the last 24 hours, oldest first), stacked by status: one bar per hour. */
export function eventsChart(hours: readonly string[], series: Record<EventSeries, readonly number[]>): string {
  const W = 720,
    H = 200,
    left = 40,
    right = 8,
    top = 24,
    bottom = 22;
  const totals = hours.map((_, i) => EVENT_SERIES.reduce((n, s) => n + (series[s.key][i] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const plotH = H - top - bottom,
    slot = (W - left - right) / hours.length,
    barW = Math.max(2, slot - 3);
  const y = (n: number) => top + plotH - (n / max) * plotH;
  let body = legend(EVENT_SERIES, 12, left);
  for (const v of [0, max / 2, max])
    body +=
      `<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${COLOURS.line}"/>` +
      text(left - 6, y(v) + 4, grouped(v), 'text-anchor="end"');
  hours.forEach((hour, i) => {
    const x = left + i * slot + 1.5;
    let base = 0;
    for (const s of EVENT_SERIES) {
      const n = series[s.key][i] ?? 0;
      if (n > 0)
        body += rect(
          x,
          y(base + n),
          barW,
          (n / max) * plotH,
          s.colour,
          { hour, series: s.key, n },
          `${hour.slice(11, 16)} UTC: ${grouped(n)} ${s.name}`,
        );
      base += n;
    }
    if (i % 3 === 0 || i === hours.length - 1)
      body += text(x + barW / 2, H - 6, hour.slice(11, 13), 'text-anchor="middle"');
  });
  body += text(left - 6, H - 6, 'UTC', 'text-anchor="end"');
  if (!totals.some((n) => n > 0)) body += text(left + 8, top + plotH / 2, 'no events in the last 24 hours');
  return svg('chart-events-svg', W, H, 'Events per hour by status, the last 24 hours', body);
}

/** Failed effect attempts per provider over the last 24 hours: one bar each, retried and dead-lettered. */
export function effectsChart(
  providers: readonly { provider: string; retrying: number; dead_lettered: number }[],
): string {
  const W = 720,
    row = 24,
    top = 24,
    left = 110,
    right = 200;
  const H = top + Math.max(1, providers.length) * row + 6;
  const max = niceMax(Math.max(0, ...providers.map((p) => p.retrying + p.dead_lettered)));
  const scale = (n: number) => (n / max) * (W - left - right);
  let body = legend(
    [
      { colour: COLOURS.warn, name: 'failed, retried' },
      { colour: COLOURS.bad, name: 'failed, dead-lettered' },
    ],
    12,
    left,
  );
  providers.forEach((p, i) => {
    const y = top + i * row + 4;
    body += text(left - 8, y + 12, p.provider, 'text-anchor="end"');
    body += rect(
      left,
      y,
      scale(p.retrying),
      16,
      COLOURS.warn,
      { provider: p.provider, series: EffectStatus.retrying, n: p.retrying },
      `${p.provider}: ${grouped(p.retrying)} failed attempts retried`,
    );
    body += rect(
      left + scale(p.retrying),
      y,
      scale(p.dead_lettered),
      16,
      COLOURS.bad,
      { provider: p.provider, series: EffectStatus.dead_lettered, n: p.dead_lettered },
      `${p.provider}: ${grouped(p.dead_lettered)} dead-lettered`,
    );
    body += text(
      left + scale(p.retrying + p.dead_lettered) + 6,
      y + 12,
      `${grouped(p.retrying)} retried · ${grouped(p.dead_lettered)} dead-lettered`,
    );
  });
  if (!providers.length) body += text(left, top + 16, 'no effect failed in the last 24 hours');
  return svg('chart-effects-svg', W, H, 'Failed effect attempts per provider, the last 24 hours', body);
}

/** A resource's use today against the plan's daily allowance, and where today's pace ends the day (null: too early). */
export interface UsageBar {
  metric: string;
  used: number;
  allowance: number;
  projected: number | null;
}

/** Today's use of each allowance (solid), the day's projection (outlined), the allowance at the track's end. */
export function usageChart(metrics: readonly UsageBar[], plan: string): string {
  const W = 720,
    row = 36,
    top = 24,
    left = 150,
    right = 16;
  const H = top + metrics.length * row;
  const track = W - left - right;
  let body = legend(
    [
      { colour: COLOURS.ok, name: 'used today' },
      { colour: COLOURS.dim, name: "today's pace to 24:00 UTC" },
    ],
    12,
    left,
  );
  metrics.forEach((m, i) => {
    const y = top + i * row + 2;
    const used = m.used / m.allowance,
      projected = m.projected === null ? null : m.projected / m.allowance;
    const fill = used >= 1 ? COLOURS.bad : used >= 0.8 ? COLOURS.warn : COLOURS.ok;
    const name = m.metric.replace(/_/g, ' ');
    body += text(left - 8, y + 11, name, 'text-anchor="end"');
    body += `<rect x="${left}" y="${y}" width="${track}" height="14" rx="3" fill="${COLOURS.track}" stroke="${COLOURS.line}"/>`;
    if (projected !== null) {
      const over = projected > 1;
      body += rect(
        left,
        y,
        Math.min(1, projected) * track,
        14,
        'none',
        { metric: m.metric, series: 'projected', n: m.projected! },
        `${name}: ${grouped(m.projected!)} by 24:00 UTC at today's pace (${percent(projected)} of ${grouped(m.allowance)})`,
        ` stroke="${over ? COLOURS.bad : COLOURS.dim}" stroke-dasharray="3 2"`,
      );
    }
    body += rect(
      left,
      y,
      Math.min(1, used) * track,
      14,
      fill,
      { metric: m.metric, series: 'used', n: m.used },
      `${name}: ${grouped(m.used)} of ${grouped(m.allowance)} today (${plan} plan)`,
    );
    const pace =
      projected === null
        ? 'too early in the day to project'
        : `projected ${grouped(m.projected!)} (${percent(projected)})${projected > 1 ? ': over the allowance' : ''}`;
    body += text(
      left,
      y + 27,
      `${grouped(m.used)} of ${grouped(m.allowance)} · ${pace}`,
      '',
      projected !== null && projected > 1 ? COLOURS.bad : COLOURS.dim,
    );
  });
  return svg(
    'chart-usage-svg',
    W,
    H,
    `Today's use of the ${plan} plan's daily allowances, and the day's projection`,
    body,
  );
}
