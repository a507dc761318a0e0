// @ts-check
// The dashboard's script. Every piece of markup is built with `html` and put in with `render` (html.js); the admin
// API's answers are typed below, from the server's own types where it has them, so a renamed field fails the check
// (`npm run check`, runtime/operations/dashboard/tsconfig.json).

/** @typedef {import('../../store/status.ts').EventStatus} EventStatus */
/** @typedef {import('../../store/status.ts').EffectStatus} EffectStatus */
/** @typedef {import('../../store/status.ts').Stage} Stage */
/** @typedef {import('../../store/events.ts').EventOrigin} EventOrigin */
/** @typedef {import('../admin-effects.ts').ShownEffect} ShownEffect */
/** @typedef {import('../replay.ts').ReplayResult} ReplayResult */
/** @typedef {import('../replay.ts').ReplayPreview} ReplayPreview */
/** @typedef {Awaited<ReturnType<typeof import('../../store/attempts.ts').attemptsOf>>[number]} FailedAttempt */
/** @typedef {Awaited<ReturnType<typeof import('../admin-effects.ts').effectLetterDetail>>} EffectLetter */
/** @typedef {import('../../store/refusals.ts').Refusal} Refusal */
/** @typedef {import('../../lib/platform.ts').Capacity} Capacity */
/** @typedef {import('../../lib/platform.ts').PlatformMetric} PlatformMetric */
/** A refusal the API answers instead (403, 404, 409, 503): why, for a person. @typedef {{ error: string, message: string }} ApiError */

/**
 * The element with this id, of this type: the page's markup and its script agree, or this says where they do not.
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @param {{ new (): T }} [type]
 * @returns {T}
 */
function $(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof (type ?? HTMLElement)))
    throw new Error(`the page has no #${id}${type ? ` (${type.name})` : ''}`);
  return /** @type {T} */ (element);
}
const csrf = /** @type {HTMLMetaElement} */ (document.querySelector('meta[name="switchyard-csrf"]')).content;
// The event log's vocabulary (runtime/store/status.ts), put in the page by `switchyard build`: statuses are never spelled here.
/** @type {{ event: typeof import('../../store/status.ts').EventStatus, effect: typeof import('../../store/status.ts').EffectStatus, stage: typeof import('../../store/status.ts').Stage }} */
const { event: EVENT, effect: EFFECT, stage: STAGE } = JSON.parse($('switchyard-vocabulary').textContent ?? '');
for (const status of Object.values(EVENT)) $('f-status', HTMLSelectElement).add(new Option(status));

/**
 * An admin API call with the session's CSRF token; its JSON answer, of the type the caller declares.
 * @template T
 * @param {string} path
 * @param {RequestInit} [init]
 * @returns {Promise<T>}
 */
async function api(path, init = {}) {
  const res = await fetch(`/admin/api${path}`, {
    ...init,
    credentials: 'same-origin',
    headers: { 'x-switchyard-csrf': csrf, 'content-type': 'application/json', ...(init.headers || {}) },
  });
  // The session expired or was revoked (ADMIN_TOKEN rotated): sign in again.
  if (res.status === 401) {
    location.assign('/admin/login');
    throw new Error('auth');
  }
  if (res.status === 403) {
    $('updated').textContent = (await res.json().catch(() => ({}))).message || 'refused';
    throw new Error('auth');
  }
  return res.json();
}
/** Why a call failed, for the catch that says so (`auth` has been handled already). @param {unknown} e */
const failed = (e) => !(e instanceof Error && e.message === 'auth');

// A command's calls are logged under the source "command:<name>": shown as "command <name>".
/** @param {string} n */
function source(n) {
  return n.startsWith('command:') ? `command ${n.slice(8)}` : n;
}
// A synthesised event (switchyard backfill, reconcile --repair) carries its origin; a provider's delivery has none.
/** @param {EventOrigin | null | undefined} o */
function originBadge(o) {
  return o && html` <span class="badge origin" title="not a signed delivery">${o}</span>`;
}
// A time from today reads as the time; an older one carries its date. The exact UTC instant is in the title.
/** @param {string | null} iso */
function when(iso) {
  const d = new Date(iso ?? NaN);
  if (Number.isNaN(d.getTime())) return '';
  const today = d.toDateString() === new Date().toDateString();
  return d.toLocaleString(
    [],
    today
      ? { hour: '2-digit', minute: '2-digit', second: '2-digit' }
      : { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' },
  );
}

/**
 * An event in the list (GET /events): the log's columns (runtime/store/events.ts LIST_COLUMNS), its worst effect
 * (null when all went well or are in flight) and how many of its effects are failing now.
 * @typedef {{
 *   seq: number, integration: string, id: string, type: string, status: EventStatus, received_at: string,
 *   occurred_at: string | null, deliveries: number, attempts: number, error: string | null, next_at: string | null,
 *   updated_at: string, origin: EventOrigin | null, effect: ShownEffect | null, effects_failing: number,
 * }} EventRow
 */
/** @typedef {{ events: EventRow[], next_cursor: string | null, scan_limit?: number }} EventsPage */

// An event's worst effect (a failure first): its badge says what and how far ("resend retrying, attempt 2 of 5 failed").
/** @param {EventRow} e */
function effectBadge(e) {
  if (!e.effect) return '';
  const f = e.effect;
  const more = e.effects_failing > 1 ? ` +${e.effects_failing - 1}` : '';
  return html`<span class="badge effect ${f.status}${f.dismissed_at ? ' dismissed' : ''}" title="${f.label + (f.error ? `: ${f.error}` : '')}">${f.summary}${more}</span>`;
}
/** @param {number[]} values */
function spark(values) {
  const max = Math.max(1, ...values);
  const w = 120;
  const h = 24;
  const step = w / Math.max(1, values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`).join(' ');
  return html`<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" aria-label="events per hour">
    <polyline fill="none" stroke="#58a6ff" stroke-width="1.5" points="${points}"/>
  </svg>`;
}
// A search: an exact id first (through the event log's key), else a value in the payload, which scans the log
// newest first, a bounded number of rows per call (reads cost D1 rows): "Search older events" goes on.
/** @type {{ text: string, cursor: string | null, scanned: number, found: EventRow[] } | null} */
let search = null;
/** @param {boolean} more */
async function runSearch(more) {
  const text = $('search', HTMLInputElement).value.trim();
  if (!text) {
    search = null;
    $('search-note').hidden = true;
    $('search-more').hidden = true;
    return loadEvents();
  }
  if (!more || !search) {
    search = { text, cursor: null, scanned: 0, found: [] };
    const q = new URLSearchParams({ id: text });
    if ($('f-integration', HTMLSelectElement).value) q.set('integration', $('f-integration', HTMLSelectElement).value);
    /** @type {EventsPage} */
    const byId = await api(`/events?${q}`);
    if (byId.events.length) {
      search.found = byId.events;
      showEvents(byId.events);
      note(`event id ${text}: ${byId.events.length} found`);
      $('search-more').hidden = true;
      return;
    }
  }
  const q = new URLSearchParams({ q: search.text, limit: '25' });
  if ($('f-integration', HTMLSelectElement).value) q.set('integration', $('f-integration', HTMLSelectElement).value);
  if (search.cursor) q.set('cursor', search.cursor);
  /** @type {EventsPage} */
  const page = await api(`/events?${q}`);
  const scanLimit = page.scan_limit ?? 0;
  search.found = search.found.concat(page.events);
  search.cursor = page.next_cursor;
  search.scanned += scanLimit;
  showEvents(search.found);
  const where = page.next_cursor ? `${search.scanned.toLocaleString()} most recent events` : 'whole log';
  const step = page.next_cursor ? ` (a search reads at most ${scanLimit.toLocaleString()} events a step)` : '';
  note(
    'no event has the id ' +
      search.text +
      '; payloads holding it: ' +
      search.found.length +
      ' found in the ' +
      where +
      step,
  );
  $('search-more').hidden = !page.next_cursor;
}
/** @param {string} text */
function note(text) {
  $('search-note').textContent = text;
  $('search-note').hidden = false;
}
/** @param {EventRow[]} events */
function showEvents(events) {
  const rows = events.map(
    (e) => html`<tr class="event" data-integration="${e.integration}" data-id="${e.id}">
      <td>${when(e.received_at)}</td>
      <td>${source(e.integration)}${originBadge(e.origin)}</td>
      <td>${e.type}</td>
      <td>${e.id}</td>
      <td><span class="badge ${e.status}">${e.status}</span></td>
      <td>${effectBadge(e)}</td>
    </tr>`,
  );
  render(
    $('events'),
    rows.length
      ? html`${rows}`
      : html`<tr><td class="muted" colspan="6">${search ? 'nothing found' : 'no events yet'}</td></tr>`,
  );
}
/** The event list's filters: the query parameter each select sets. */
const FILTERS = { integration: 'f-integration', status: 'f-status', origin: 'f-origin', effects: 'f-effects' };
async function loadEvents() {
  if (search) return;
  const q = new URLSearchParams({ limit: '25' });
  for (const [name, id] of Object.entries(FILTERS)) {
    const value = $(id, HTMLSelectElement).value;
    if (value) q.set(name, value);
  }
  /** @type {EventsPage} */
  const { events } = await api(`/events?${q}`);
  showEvents(events);
}

/**
 * A dead letter as the list reads it (GET /dead-letters, runtime/store/dead-letters.ts LIST_COLUMNS).
 * @typedef {{
 *   seq: number, integration: string, stage: Stage, event_id: string, reason: string, error: string | null,
 *   attempts: number, first_failed_at: string, last_failed_at: string, replayed_at: string | null,
 *   dismissed_at: string | null, dismissed_by: string | null,
 * }} DeadLetterRow
 */
async function loadDead() {
  const view = $('f-dead', HTMLSelectElement).value;
  /** @type {{ dead_letters: DeadLetterRow[] }} */
  const { dead_letters } = await api(`/dead-letters?${new URLSearchParams({ view })}`);
  /** @param {DeadLetterRow} d */
  const state = (d) =>
    d.replayed_at
      ? html` ${badge(EVENT.replayed)}`
      : d.dismissed_at
        ? html` <span class="badge ${EVENT.ignored}">dismissed</span>`
        : '';
  const rows = dead_letters.map(
    (d) => html`<tr class="letter" data-seq="${d.seq}">
      <td class="err">
        <b>${source(d.integration)}</b> <span class="muted">${d.stage} #${d.seq}</span>${state(d)}<br>
        <span class="muted">${d.event_id}</span><br>
        ${d.reason}: <span class="muted" title="open for the full error">${d.error || ''}</span>
      </td>
      <td>${d.replayed_at || d.dismissed_at ? '' : html`<button data-replay="${d.seq}">Replay</button>`}</td>
    </tr>`,
  );
  render($('dead'), rows.length ? html`${rows}` : html`<tr><td class="muted">none</td></tr>`);
  $('replay-all').hidden = view !== 'open' || dead_letters.length < 2;
}

/**
 * GET /usage: the manifest's limits in their current period, the platform's daily allowances, today's projection.
 * @typedef {{
 *   limits: { name: string, period: string, limit: number, warn_at: number, usage: { key: string, n: number }[] }[],
 *   platform: { plan: 'free' | 'paid', day: string, metrics: { metric: PlatformMetric, used: number, allowance: number }[] },
 *   projection: { events_today: number, fits: (Capacity & { mix: string }) | null } | null,
 * }} Usage
 */
async function loadUsage() {
  /** @type {Usage} */
  const { limits, platform, projection } = await api('/usage');
  /**
   * @param {string} label
   * @param {number} used
   * @param {number} max
   * @param {number} warnAt
   */
  const bar = (label, used, max, warnAt) => {
    const f = max ? used / max : 0;
    const cls = f >= 1 ? 'over' : warnAt && f >= warnAt ? 'hot' : '';
    return html`<div>${label} <span class="muted">${used} / ${max}</span></div>
      <div class="bar ${cls}">
        <i style="width:${Math.min(100, f * 100).toFixed(1)}%"></i>
        ${warnAt ? html`<b style="left:${warnAt * 100}%" title="warn at ${Math.round(warnAt * 100)}%"></b>` : null}
      </div>`;
  };
  const fits = projection?.fits;
  render(
    $('usage'),
    html`${limits.map((l) => bar(`${l.name} (${l.period})`, (l.usage.find((u) => u.key === '*') || l.usage[0] || { n: 0 }).n, l.limit, l.warn_at))}
      <div class="muted" style="margin-top:8px">platform today (${platform.plan} plan, estimated)</div>
      ${platform.metrics.map((m) => bar(m.metric.replace(/_/g, ' '), m.used, m.allowance, 0.8))}
      ${
        fits &&
        html`<div id="capacity" style="margin-top:8px">
        at ${fits.mix} mix, ${Number(fits.events_per_day).toLocaleString()} events/day fit; binding resource: ${fits.binding.replace(/_/g, ' ')}
      </div>`
      }`,
  );
}

/**
 * GET /health: per integration, the last hour's and day's counts and lag, its effects failing now, and accepted
 * events per hour over the last 24 hours (runtime/operations/admin.ts).
 * @typedef {{ accepted: number, failed: number, rejected: number, lag_ms: { p50: number | null, p99: number | null } }} HealthWindow
 * @typedef {{ retrying: number, dead_lettered: number }} FailingCounts
 * @typedef {{ at: string, partial?: true, integrations: Record<string, { hour: HealthWindow, day: HealthWindow, effects: FailingCounts, series: number[] }> }} Health
 */
async function loadHealth() {
  /** @type {Health} */
  const { integrations } = await api('/health');
  const names = Object.keys(integrations);
  const select = $('f-integration', HTMLSelectElement);
  if (select.options.length === 1) for (const n of names) select.add(new Option(source(n), n));
  const rows = Object.entries(integrations).map(([n, { hour: h, effects, series }]) => {
    const lag = h.lag_ms;
    return html`<tr>
      <td>${source(n)}</td>
      <td>${h.accepted}</td>
      <td>${h.rejected}</td>
      <td class="${h.failed ? 'failed' : ''}">${h.failed}</td>
      <td class="effects-failing">${effectsFailing(effects)}</td>
      <td>${lag.p50 === null ? '–' : `${lag.p50} / ${lag.p99} ms`}</td>
      <td>${spark(series)}</td>
    </tr>`;
  });
  render($('health'), html`${rows}`);
}
// Effects failing now, per integration: retrying, and dead-lettered with the letter open.
/** @param {FailingCounts | undefined} f */
function effectsFailing(f) {
  if (!f || (!f.retrying && !f.dead_lettered)) return html`<span class="muted">0</span>`;
  const retrying = f.retrying ? html`<span class="${EFFECT.retrying}">${f.retrying} retrying</span>` : null;
  const dead = f.dead_lettered
    ? html`<span class="${EFFECT.dead_lettered}">${f.dead_lettered} dead-lettered</span>`
    : null;
  return retrying && dead ? html`${retrying} · ${dead}` : html`${retrying}${dead}`;
}

/**
 * GET /effects/failing, and a bulk retry's preview (runtime/operations/admin-effects.ts).
 * @typedef {{ integration: string, id: string, step: string, label: string, status: EffectStatus, attempts: number, error: string | null }} FailingSample
 * @typedef {{ reason: string, count: number, statuses: Record<string, number>, sample: FailingSample[] }} FailingReason
 * @typedef {{ dry_run: true, reason: string, count: number, truncated: boolean, sample: FailingSample[] }} RetryPreview
 * @typedef {{
 *   retried: { integration: string, id: string, step: string, label: string, status: EffectStatus, attempt: number, error?: string }[],
 *   skipped: { integration: string, id: string, step: string, reason: string }[],
 * }} RetryResult
 */
// The effects failing now, grouped by why; each group can be retried at once, after a preview.
async function loadFailing() {
  /** @type {{ reasons: FailingReason[] }} */
  const { reasons } = await api('/effects/failing');
  const rows = reasons.map((r) => {
    const statuses = Object.entries(r.statuses)
      .map(([k, n]) => `${k.replace('_', '-')} ${n}`)
      .join(', ');
    const sample = r.sample.slice(0, 2).map((s, i) => html`${i ? html`<br>` : ''}${s.label} · ${s.id}`);
    return html`<tr class="reason">
      <td class="err">
        <b>${r.reason}</b> <span class="muted">${r.count}${r.count === 1 ? ' effect' : ' effects'} · ${statuses}</span><br>
        <span class="muted">${sample}</span>
      </td>
      <td><button class="bulk-retry" data-reason="${r.reason}" type="button">Retry ${r.count}…</button></td>
    </tr>`;
  });
  render($('failing'), rows.length ? html`${rows}` : html`<tr><td class="muted">none</td></tr>`);
}
async function refresh() {
  try {
    await Promise.all([loadEvents(), loadDead(), loadUsage(), loadHealth(), loadFailing()]);
    $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    if (failed(e)) $('updated').textContent = 'refresh failed';
  }
}
async function start() {
  /** @type {{ environment?: string, manifest?: { hash?: string } }} */
  const health = await fetch('/healthz')
    .then((r) => r.json())
    .catch(() => ({}));
  $('env').textContent = `${health.environment || ''} · manifest ${String(health.manifest?.hash || '').slice(0, 12)}`;
  await refresh();
  // Every read costs D1 rows on the free plan: poll every 30 s, and only while the page is visible.
  setInterval(() => {
    if (document.visibilityState === 'visible') refresh();
  }, 30000);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') refresh();
  });
  $('refresh').addEventListener('click', refresh);
}
$('f-integration').addEventListener('change', () => (search ? runSearch(false) : loadEvents()));
for (const id of ['f-status', 'f-origin', 'f-effects']) $(id).addEventListener('change', loadEvents);
$('f-dead').addEventListener('change', loadDead);
$('search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  runSearch(false);
});
$('search-more').addEventListener('click', () => runSearch(true));
/** @param {string | null | undefined} iso */
const full = (iso) => {
  const d = new Date(iso ?? NaN);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'medium' });
};
/** @param {string} status */
const badge = (status) => html`<span class="badge ${status}">${String(status).replace('_', ' ')}</span>`;
/** @param {string | null | undefined} text */
const errorText = (text) => text && html`<div class="error-text">${text}</div>`;
// How each status reads in the timeline (the badges' colours are in page.css, by the same names).
/** @type {Record<string, 'ok' | 'warn' | 'bad' | 'info'>} */
const tone = {
  [EVENT.applied]: 'ok',
  [EFFECT.sent]: 'ok',
  [EVENT.ignored]: 'ok',
  [EVENT.skipped]: 'ok',
  [EVENT.retrying]: 'warn',
  [EFFECT.deferred]: 'warn',
  [EVENT.dead_lettered]: 'bad',
  [EFFECT.dropped]: 'bad',
  [EVENT.queued]: 'info',
  [EVENT.replayed]: 'info',
  [EFFECT.pending]: 'info',
  [EFFECT.sending]: 'info',
};
// What replaying a result did, or why it did nothing.
/** @param {ReplayResult} r */
const outcome = (r) =>
  r.replayed.length ? `Replayed ${r.replayed.length}` : `Skipped: ${r.skipped[0]?.reason || 'nothing to replay'}`;

/**
 * What one step of a handler did, as the event's row keeps it (runtime/consumer/consumer.ts `outcomes`).
 * @typedef {{ kind: string, statements: number, outbox: number, actions: number, skipped?: string }} Step
 */
// What a step did, read by its kind (an SQL step's statements, an enqueue's messages, an action's effects), else every count.
/**
 * @param {number} n
 * @param {string} one
 * @param {string} many
 */
const counted = (n, one, many) => n + (n === 1 ? one : many);
/** @type {Record<string, (s: Step) => string>} */
const STEP_COUNTS = {
  sql: (s) => counted(s.statements, ' SQL statement', ' SQL statements'),
  enqueue: (s) => counted(s.outbox, ' message queued', ' messages queued'),
  action: (s) => counted(s.actions, ' effect', ' effects'),
};
/** @param {Step} s */
const stepDid = (s) =>
  STEP_COUNTS[s.kind]?.(s) ??
  [
    counted(s.statements, ' SQL statement', ' SQL statements'),
    `${s.outbox} queued`,
    counted(s.actions, ' effect', ' effects'),
  ].join(' · ');
/** @type {readonly string[]} */
const SETTLED = [EVENT.applied, EVENT.ignored, EVENT.skipped];

/**
 * GET /events/:integration/:id: the event with its payload, what its steps did, its effects, dead letters and
 * failed attempts (runtime/operations/admin.ts).
 * @typedef {Omit<EventRow, 'effect' | 'effects_failing'> & { caller: string | null, max_attempts: number | null, payload: unknown }} EventDetailEvent
 * @typedef {{
 *   step: string, action: string, source: string, status: EffectStatus, attempts: number, next_at: string | null,
 *   result: unknown, error: string | null, duration_ms: number | null, created_at: string, updated_at: string, label: string, max_attempts: number | null,
 * }} EventEffect
 * @typedef {Omit<DeadLetterRow, 'integration' | 'dismissed_by'>} EventLetter
 * @typedef {{
 *   event: EventDetailEvent, steps: Step[], applied_at: string | null, effects: EventEffect[],
 *   dead_letters: EventLetter[], attempts: FailedAttempt[],
 * }} EventDetail
 */
/**
 * The event as a timeline: received, each attempt and its error, dead letters, what the steps did, each effect, the next retry.
 * @param {EventDetail} detail
 */
function timeline(detail) {
  const ev = detail.event;
  const steps = detail.steps || [];
  const effects = detail.effects || [];
  const letters = detail.dead_letters || [];
  /** @type {[string, Html][]} */
  const items = [];
  const deliveries = ev.deliveries === 1 ? ' delivery' : ' deliveries (the provider sent it again; deduplicated)';
  items.push([
    'info',
    html`<b>Received</b> ${full(ev.received_at)} <span class="muted">${ev.deliveries}${deliveries}${ev.occurred_at ? ` · occurred ${full(ev.occurred_at)}` : ''}</span>`,
  ]);
  // Each failed attempt, with its error and how long it took (the store keeps one row per failure).
  /** @param {string} target */
  const failedAttempts = (target) => (detail.attempts || []).filter((a) => a.target === target);
  /**
   * @param {FailedAttempt} a
   * @param {string} what
   * @returns {[string, Html]}
   */
  const attemptItem = (a, what) => [
    'bad',
    html`<b>${what} attempt ${a.n} failed</b> <span class="muted">${full(a.at)}${a.duration_ms !== null ? ` · ${a.duration_ms} ms` : ''}</span>${errorText(a.error)}`,
  ];
  for (const a of failedAttempts('event')) items.push(attemptItem(a, 'State'));
  if (
    !failedAttempts('event').length &&
    (ev.attempts > 1 || ev.error || (ev.attempts > 0 && !SETTLED.includes(ev.status)))
  ) {
    items.push([
      tone[ev.status] || 'warn',
      html`<b>${ev.attempts}${ev.max_attempts ? ` of ${ev.max_attempts}` : ''} attempts</b> ${badge(ev.status)} <span class="muted">last at ${full(ev.updated_at)}</span>${errorText(ev.error)}`,
    ]);
  }
  for (const d of letters) {
    const attempts = d.attempts + (d.attempts === 1 ? ' attempt' : ' attempts');
    const closed =
      (d.replayed_at ? ` · replayed ${full(d.replayed_at)}` : '') +
      (d.dismissed_at ? ` · dismissed ${full(d.dismissed_at)}` : '');
    items.push([
      d.replayed_at || d.dismissed_at ? 'info' : 'bad',
      html`<b>Dead letter #${d.seq}</b> <span class="muted">${d.stage} · ${d.reason} · ${attempts}, first failed ${full(d.first_failed_at)}, last ${full(d.last_failed_at)}${closed}</span>
        ${errorText(d.error)}`,
    ]);
  }
  if (detail.applied_at || ev.status === EVENT.ignored || ev.status === EVENT.skipped) {
    const did = steps.map(
      (s, i) =>
        html`<li class="step">step ${i} <b>${s.kind}</b> ${
          s.skipped !== undefined
            ? html`<span class="badge ${EVENT.skipped}">${EVENT.skipped}</span> <span class="condition">${s.skipped}</span>`
            : html`<span class="muted">${stepDid(s)}</span>`
        }</li>`,
    );
    const what =
      ev.status === EVENT.ignored ? 'Ignored' : ev.status === EVENT.skipped ? 'Skipped (condition)' : 'Applied';
    items.push([
      'ok',
      html`<b>${what}</b> ${full(detail.applied_at || ev.updated_at)}${did.length ? html`<ul>${did}</ul>` : html` <span class="muted">no handler for this type</span>`}`,
    ]);
  }
  for (const f of effects) {
    // An effect reads as the manifest names its step (stripe.handlers[2].steps[1] resend), never as its row key.
    const label = f.label || f.action;
    for (const a of failedAttempts(f.step)) items.push(attemptItem(a, label));
    const waiting = f.status === EFFECT.retrying || f.status === EFFECT.deferred;
    const retry = waiting
      ? ` · next ${f.status === EFFECT.deferred ? 'try (deferred) ' : 'retry '}${full(f.next_at)}`
      : '';
    // The attempt that sent it: when it ended and how long its call took (each failed one is listed above with its own).
    const took =
      f.status === EFFECT.sent && f.duration_ms !== null && f.duration_ms !== undefined
        ? ` · ${full(f.updated_at)} · ${f.duration_ms} ms`
        : '';
    const now =
      RETRYABLE_EFFECTS.includes(f.status) &&
      html` <button class="retry-effect secondary" type="button" data-step="${f.step}">Retry now</button><span class="muted retry-result" data-step="${f.step}"></span>`;
    items.push([
      tone[f.status] || 'info',
      html`<b>${label}</b> ${badge(f.status)} <span class="muted">attempt ${f.attempts}${f.max_attempts ? ` of ${f.max_attempts}` : ''}${took}${retry}</span>${now}${errorText(f.error)}`,
    ]);
  }
  const nextTimes = [ev.status === EVENT.retrying ? ev.next_at : null].concat(
    effects.filter((f) => f.status === EFFECT.retrying || f.status === EFFECT.deferred).map((f) => f.next_at),
  );
  const next = nextTimes.filter(Boolean).sort()[0];
  if (next) items.push(['warn', html`<b>Next retry</b> ${full(next)}`]);
  return html`<ol class="timeline" id="timeline">${items.map(([cls, item]) => html`<li class="${cls}">${item}</li>`)}</ol>`;
}
// Effects an operator may send now: waiting for a retry or a limit's reset, or given up on.
/** @type {readonly string[]} */
const RETRYABLE_EFFECTS = [EFFECT.retrying, EFFECT.deferred, EFFECT.dead_lettered];
/** @type {readonly string[]} */
const REPLAYABLE = [EVENT.queued, EVENT.retrying, EVENT.dead_lettered, EVENT.replayed];
/**
 * @param {string} integration
 * @param {string} id
 */
async function showEvent(integration, id) {
  /** @type {EventDetail} */
  const detail = await api(`/events/${encodeURIComponent(integration)}/${encodeURIComponent(id)}`);
  const ev = detail.event;
  const open = (detail.dead_letters || []).filter((d) => !d.replayed_at && !d.dismissed_at);
  // Replay what failed: its open dead letters (the event's or its effects'), else the event from its stored body.
  const canReplay = open.length > 0 || REPLAYABLE.includes(ev.status);
  const replay = canReplay
    ? html`<button id="event-replay" type="button">Replay</button><span class="muted" id="event-replay-result"></span>`
    : html`<button id="event-replay" type="button" disabled title="applied events are deduplicated: use rebuild">Replay</button>
        <span class="muted" id="event-replay-result">${ev.status}: nothing to replay (effects retry on their own; rebuild re-runs projections)</span>`;
  render(
    $('detail'),
    html`<div class="panel">
      <h2>${source(integration)}${originBadge(ev.origin)} / ${id} ${badge(ev.status)}</h2>
      <div class="muted">${ev.type}</div>
      <div class="actions">${replay}</div>
      ${timeline(detail)}
      <details id="payload">
        <summary>Payload (${JSON.stringify(ev.payload ?? null).length.toLocaleString()} bytes)</summary>
        <pre>${JSON.stringify(ev.payload, null, 2)}</pre>
      </details>
    </div>`,
  );
  for (const button of document.querySelectorAll('#detail button.retry-effect')) {
    if (!(button instanceof HTMLButtonElement)) continue;
    button.addEventListener('click', async () => {
      const step = button.dataset.step ?? '';
      const where = document.querySelector(`#detail .retry-result[data-step="${CSS.escape(step)}"]`);
      button.disabled = true;
      button.textContent = 'Sending…';
      // A 409 (sent already, or being sent) answers why, as JSON: shown beside the button.
      /** @type {RetryResult | ApiError} */
      const body = await api('/effects/retry', { method: 'POST', body: JSON.stringify({ integration, id, step }) });
      const done = 'retried' in body ? body.retried[0] : undefined;
      button.textContent = 'Retry now';
      if (where)
        where.textContent = done
          ? ' ' +
            done.status.replace('_', ' ') +
            ' (attempt ' +
            done.attempt +
            ')' +
            (done.error ? `: ${done.error}` : '')
          : ` ${('message' in body && body.message) || 'not retried'}`;
      setTimeout(() => {
        refresh();
        showEvent(integration, id);
      }, 800);
    });
  }
  const replayButton = $('event-replay', HTMLButtonElement);
  replayButton.addEventListener('click', async () => {
    replayButton.disabled = true;
    replayButton.textContent = 'Replaying…';
    /** @type {ReplayResult} */
    const result = open.length
      ? await api('/dead-letters/replay', { method: 'POST', body: JSON.stringify({ seq: open.map((d) => d.seq) }) })
      : await api('/events/replay', { method: 'POST', body: JSON.stringify({ integration, id }) });
    replayButton.textContent = 'Replay';
    $('event-replay-result').textContent = outcome(result);
    setTimeout(refresh, 500);
  });
}
$('events').addEventListener('click', (e) => {
  const row = e.target instanceof Element ? e.target.closest('tr.event') : null;
  if (row instanceof HTMLElement && row.dataset.integration && row.dataset.id)
    showEvent(row.dataset.integration, row.dataset.id);
});

/**
 * GET /dead-letters/:seq: one letter whole, with what it stored (runtime/operations/admin.ts).
 * @typedef {DeadLetterRow & {
 *   envelope: unknown, raw_body: string | null, content_type: string | null, headers: Record<string, string> | null,
 *   effect?: EffectLetter,
 * }} DeadLetterDetail
 */
/** @param {DeadLetterDetail} d */
const headerLines = (d) =>
  (d.content_type ? [`content-type: ${d.content_type}`] : [])
    .concat(Object.entries(d.headers || {}).map(([k, v]) => `${k}: ${v}`))
    .join('\n');
/** @param {unknown} v */
const pretty = (v) => {
  try {
    return JSON.stringify(typeof v === 'string' ? JSON.parse(v) : v, null, 2);
  } catch {
    return String(v);
  }
};
/** @param {string | number} seq */
async function showLetter(seq) {
  /** @type {{ dead_letter: DeadLetterDetail }} */
  const { dead_letter: d } = await api(`/dead-letters/${seq}`);
  const closed = d.replayed_at || d.dismissed_at;
  const attempts = d.attempts + (d.attempts === 1 ? ' attempt' : ' attempts');
  const closedAt =
    (d.replayed_at ? ` · replayed ${full(d.replayed_at)}` : '') +
    (d.dismissed_at ? ` · dismissed ${full(d.dismissed_at)} by ${d.dismissed_by}` : '');
  const body =
    d.raw_body !== null &&
    html`<details id="dl-body"${d.effect ? '' : html` open`}>
      <summary>${d.effect ? 'The event’s raw body' : 'Raw body'}${d.content_type ? ` (${d.content_type})` : ''}</summary>
      <pre>${pretty(d.raw_body)}</pre>
    </details>`;
  render(
    $('dl-detail'),
    html`<div class="panel">
      <h2>Dead letter #${d.seq} · ${source(d.integration)} ${d.stage}</h2>
      <div class="muted">${d.event_id} · ${d.reason} · ${attempts} · first failed ${full(d.first_failed_at)}, last ${full(d.last_failed_at)}${closedAt}</div>
      ${d.effect && effectLetter(d.effect)}
      <h2 style="margin-top:10px">Error</h2>
      <pre id="dl-error" class="error-text">${d.error || '(none)'}</pre>
      ${
        d.stage === STAGE.ingest &&
        html`<h2>Headers <span class="muted">(content type, and those the extraction rules read)</span></h2>
        <pre id="dl-headers">${headerLines(d)}</pre>`
      }
      ${body}
      ${d.envelope ? html`<details><summary>Envelope</summary><pre>${pretty(d.envelope)}</pre></details>` : null}
      ${
        !closed &&
        html`<div class="actions">
        <button id="dl-replay" type="button">Replay</button>
        <button id="dl-dismiss" class="secondary" type="button" title="it can never succeed: keep it in the log, out of the open list and alerts">Dismiss</button>
        <span class="muted" id="dl-result"></span>
      </div>`
      }
    </div>`,
  );
  if (closed) return;
  $('dl-replay').addEventListener('click', () => replayLetter(seq, $('dl-replay', HTMLButtonElement), $('dl-result')));
  $('dl-dismiss').addEventListener('click', async () => {
    /** @type {{ seq: number, dismissed_at: string } | ApiError} */
    const res = await api(`/dead-letters/${seq}/dismiss`, { method: 'POST' });
    $('dl-result').textContent =
      'dismissed_at' in res ? 'Dismissed (kept in the log: see the dismissed filter)' : res.message || 'not dismissed';
    setTimeout(refresh, 300);
  });
}
// An effect's letter: what was being sent (secrets redacted by the API), what the provider answered, each attempt.
/** @param {EffectLetter} f */
function effectLetter(f) {
  const lines = Object.entries(f.request || {}).map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`);
  const a = f.answer;
  const attempts = (f.attempts || []).map(
    (t) =>
      html`<li><span class="muted">attempt ${t.n} · ${full(t.at)}${t.duration_ms !== null ? ` · ${t.duration_ms} ms` : ''}</span> ${t.error}</li>`,
  );
  return html`<h2 style="margin-top:10px">Sending: ${f.label}</h2>
    <table id="dl-request" class="kv">${lines}</table>
    <h2 style="margin-top:10px">Provider answered</h2>
    <div id="dl-answer">
      <b>${a.status === null || a.status === undefined ? 'no answer' : `HTTP ${a.status}`}${a.code ? ` ${a.code}` : ''}</b> <span class="muted">${full(a.at)}</span>
      <pre class="error-text">${a.excerpt || ''}</pre>
    </div>
    ${attempts.length > 0 && html`<ol class="attempts">${attempts}</ol>`}`;
}
// Bulk retry by reason: a preview (how many, a sample) first, then the retry on confirmation.
$('failing').addEventListener('click', async (e) => {
  const reason = e.target instanceof HTMLElement ? e.target.dataset.reason : undefined;
  if (!reason) return;
  /** @type {RetryPreview} */
  const p = await api('/effects/retry', { method: 'POST', body: JSON.stringify({ reason, dry_run: true }) });
  const sample = p.sample.map(
    (s, i) => html`${i ? html`<br>` : ''}${s.label} · ${s.id} · ${s.status.replace('_', '-')} after ${s.attempts}`,
  );
  render(
    $('bulk-preview'),
    html`<div class="panel" id="bulk">
      <b>Retry ${p.count} effect${p.count === 1 ? '' : 's'} that failed with “${p.reason}”${p.truncated ? ` (the first ${p.count}; run again for the rest)` : ''}?</b>
      <div class="muted">${sample}${p.count > p.sample.length && html`<br>and ${p.count - p.sample.length} more`}</div>
      <div class="actions">
        <button id="bulk-confirm" type="button">Retry ${p.count} now</button>
        <button id="bulk-cancel" class="secondary" type="button">Cancel</button>
      </div>
    </div>`,
  );
  $('bulk-cancel').addEventListener('click', () => $('bulk-preview').replaceChildren());
  $('bulk-confirm').addEventListener('click', async () => {
    $('bulk-confirm', HTMLButtonElement).disabled = true;
    /** @type {RetryResult | ApiError} */
    const r = await api('/effects/retry', { method: 'POST', body: JSON.stringify({ reason }) });
    if (!('retried' in r)) {
      render($('bulk-preview'), html`<div class="panel muted" id="bulk-result">Not retried: ${r.message}</div>`);
      return;
    }
    /** @type {Record<string, number>} */
    const counts = {};
    for (const x of r.retried) counts[x.status] = (counts[x.status] || 0) + 1;
    const tally =
      Object.entries(counts)
        .map(([k, n]) => `${k.replace('_', ' ')} ${n}`)
        .join(', ') || 'nothing';
    const skipped =
      r.skipped.length > 0 && html`; skipped ${r.skipped.length}${r.skipped.map((s) => html`<br>${s.id} ${s.reason}`)}`;
    render(
      $('bulk-preview'),
      html`<div class="panel muted" id="bulk-result">Retried ${r.retried.length}: ${tally}${skipped}</div>`,
    );
    refresh();
  });
});
/**
 * @param {string | number} seq
 * @param {HTMLButtonElement} button
 * @param {HTMLElement | null} where
 */
async function replayLetter(seq, button, where) {
  button.disabled = true;
  button.textContent = 'Replaying…';
  /** @type {ReplayResult} */
  const result = await api('/dead-letters/replay', { method: 'POST', body: JSON.stringify({ seq: [Number(seq)] }) });
  button.textContent = result.replayed.length ? 'Replayed' : 'Skipped';
  if (where) where.textContent = outcome(result);
  else button.title = outcome(result);
  if (!result.replayed.length) {
    const why = document.createElement('div');
    why.className = 'error-text skip-reason';
    why.textContent = outcome(result);
    button.after(why);
  }
  setTimeout(refresh, 500);
}
$('dead').addEventListener('click', (e) => {
  if (!(e.target instanceof HTMLElement)) return;
  const seq = e.target.dataset.replay;
  if (seq && e.target instanceof HTMLButtonElement) return replayLetter(seq, e.target, null);
  const row = e.target.closest('tr.letter');
  if (row instanceof HTMLElement && row.dataset.seq) showLetter(row.dataset.seq);
});
// Bulk replay shows what it would do first (a dry run), then replays on confirmation.
$('replay-all').addEventListener('click', async () => {
  /** @type {ReplayPreview} */
  const p = await api('/dead-letters/replay', { method: 'POST', body: JSON.stringify({ all: true, dry_run: true }) });
  /** @param {Record<string, number>} o */
  const counts = (o) =>
    Object.entries(o)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  render(
    $('replay-preview'),
    html`<div class="panel" id="preview">
      <b>Replay ${p.count} dead letter${p.count === 1 ? '' : 's'}${p.truncated ? ` (the first ${p.count}; run again for the rest)` : ''}?</b>
      <div class="muted">integrations: ${counts(p.integrations)}<br>stages: ${counts(p.stages)}</div>
      <div class="actions">
        <button id="replay-confirm" type="button">Replay ${p.count}</button>
        <button id="replay-cancel" class="secondary" type="button">Cancel</button>
      </div>
    </div>`,
  );
  $('replay-cancel').addEventListener('click', () => $('replay-preview').replaceChildren());
  $('replay-confirm').addEventListener('click', async () => {
    /** @type {ReplayResult} */
    const r = await api('/dead-letters/replay', { method: 'POST', body: JSON.stringify({ all: true }) });
    const skipped = r.skipped.map((s) => html`<br>#${s.seq} ${s.reason}`);
    render(
      $('replay-preview'),
      html`<div class="panel muted">Replayed ${r.replayed.length}, skipped ${r.skipped.length}${skipped}</div>`,
    );
    refresh();
  });
});
// Refused requests: the refusal log (sampled and capped; every refusal is counted in health), newest first. Its own
// poll, on the page's schedule: what was refused, when, why, which secrets were tried; headers redacted, no body.
async function loadRefusals() {
  /** @type {{ refusals: Refusal[], caps: { per_integration_per_minute: number, per_hour: number } }} */
  const { refusals, caps } = await api('/refusals?limit=20');
  $('refusals-note').textContent =
    'kept: at most ' +
    caps.per_integration_per_minute +
    ' per integration a minute, ' +
    caps.per_hour +
    ' an hour; bodies never, only their SHA-256 and size';
  const rows = refusals.map(
    (r) => html`<tr>
      <td title="${full(r.at)}">${when(r.at)}</td>
      <td>${source(r.integration)}</td>
      <td>${r.status} ${r.reason}</td>
      <td>
        ${`${r.method} ${r.route}`}<br>
        <span class="muted">secrets tried: ${r.secrets.join(', ') || 'none'}<br>body ${r.body_size} bytes${r.body_sha256 ? `, sha256 ${r.body_sha256.slice(0, 16)}…` : ''}</span>
      </td>
      <td>
        <details>
          <summary>${Object.keys(r.headers).length} headers</summary>
          <pre>${Object.entries(r.headers)
            .map(([k, v]) => `${k}: ${v}`)
            .join('\n')}</pre>
        </details>
      </td>
    </tr>`,
  );
  render($('refusals'), rows.length ? html`${rows}` : html`<tr><td class="muted" colspan="5">none</td></tr>`);
}
const refusalsQuietly = () => loadRefusals().catch(() => undefined);
setInterval(() => {
  if (document.visibilityState === 'visible') refusalsQuietly();
}, 30000);
$('refresh').addEventListener('click', refusalsQuietly);
refusalsQuietly();
start();
