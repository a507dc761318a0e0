/**
 * The dashboard at /admin: one small HTML page, no framework, usable on a phone, and its login form. The page is
 * served only to a signed-in session (runtime/operations/admin-pages.ts) and keeps no credential: its requests to
 * /admin/api ride on the HttpOnly session cookie, with the session's CSRF token (from a meta tag) on changes.
 */

/** The look both pages share. */
const STYLE = `  :root { --bg: #0f1419; --card: #182029; --line: #2a3441; --text: #e6edf3; --dim: #8b98a5; --ok: #3fb950; --warn: #d29922; --bad: #f85149; --info: #58a6ff; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--text); }
  header { display: flex; align-items: center; gap: 12px; padding: 12px 16px; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
  header h1 { font-size: 16px; margin: 0; } header .env { color: var(--dim); }
  main { display: grid; gap: 16px; padding: 16px; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; min-width: 0; overflow-x: auto; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--dim); margin: 0 0 10px; }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
  td, th { text-align: left; padding: 6px 6px; border-top: 1px solid var(--line); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 260px; }
  th { color: var(--dim); font-weight: 500; border-top: 0; }
  tr.event { cursor: pointer; } tr.event:hover { background: #1e2935; }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; border: 1px solid currentColor; }
  .badge.origin { color: var(--dim); margin-left: 6px; padding: 0 6px; font-size: 11px; }
  .applied, .sent { color: var(--ok); } .queued, .replayed, .pending, .sending, .deferred { color: var(--info); } .retrying { color: var(--warn); } .dead_lettered { color: var(--bad); } .ignored, .dropped { color: var(--muted, #888); }
  input, select, button { font: inherit; color: var(--text); background: #0d1117; border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; }
  button { cursor: pointer; background: #238636; border-color: #2ea043; } button:disabled { cursor: default; opacity: .45; } button.secondary { background: #21262d; border-color: var(--line); }
  .filters { display: flex; gap: 8px; margin-bottom: 8px; flex-wrap: wrap; }
  .bar { position: relative; height: 10px; background: #0d1117; border-radius: 5px; overflow: hidden; margin: 4px 0 10px; }
  .bar > i { position: absolute; inset: 0 auto 0 0; background: var(--ok); } .bar > b { position: absolute; top: 0; bottom: 0; width: 2px; background: var(--warn); }
  .bar.hot > i { background: var(--warn); } .bar.over > i { background: var(--bad); }
  .muted { color: var(--dim); } pre { white-space: pre-wrap; word-break: break-word; background: #0d1117; padding: 8px; border-radius: 6px; max-height: 320px; overflow: auto; }
  svg { display: block; }
  ol.timeline { list-style: none; margin: 8px 0; padding: 0 0 0 14px; border-left: 2px solid var(--line); }
  ol.timeline > li { position: relative; margin: 0 0 10px; padding-left: 10px; }
  ol.timeline > li::before { content: ''; position: absolute; left: -21px; top: 5px; width: 10px; height: 10px; border-radius: 50%; background: var(--dim); }
  ol.timeline > li.ok::before { background: var(--ok); } ol.timeline > li.warn::before { background: var(--warn); } ol.timeline > li.bad::before { background: var(--bad); } ol.timeline > li.info::before { background: var(--info); }
  .error-text { color: var(--bad); white-space: pre-wrap; word-break: break-word; }
  details > summary { cursor: pointer; color: var(--dim); margin: 6px 0; }
  tr.letter { cursor: pointer; } tr.letter:hover { background: #1e2935; } tr.letter td.err { max-width: 220px; }
  .panel { border: 1px solid var(--line); border-radius: 6px; padding: 10px; margin-top: 10px; }
  .actions { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin: 8px 0; }
  #login { max-width: 420px; margin: 12vh auto; padding: 16px; } #login input { width: 100%; margin: 8px 0; } #login .error { color: var(--bad); }
  @media (max-width: 560px) { main { padding: 8px; grid-template-columns: 1fr; } #events td:nth-child(1), #events-head th:nth-child(1), #events td:nth-child(4), #events-head th:nth-child(4) { display: none; } td, th { max-width: 140px; } header { padding: 10px 8px; } }
`;

/** The favicon: a switch of tracks, inline SVG (served at /favicon.ico, so browsers stop asking for a missing one). */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#0f1419"/><path d="M6 24h20M6 24c8 0 12-16 20-16" fill="none" stroke="#3fb950" stroke-width="3" stroke-linecap="round"/></svg>`;

const page = (title: string, head: string, body: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
<title>${title}</title>${head}
<style>
${STYLE}</style>
</head>
<body>
${body}`;

const escapeHtml = (v: string) => v.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The login form: a plain POST, no script. The token goes to the server once and is kept by nobody. */
export function loginHtml(message = ''): string {
  return page(
    'switchyard · sign in',
    '',
    `<div id="login">
  <section><h2>switchyard admin</h2>
  <p class="muted">Enter the admin token (ADMIN_TOKEN) or a token from the admin auth provider. It signs you in for an hour; the page keeps no token.</p>
  <form method="post" action="/admin/login" id="login-form"><input id="token" name="token" type="password" autocomplete="current-password" placeholder="admin token" required autofocus><button type="submit">Sign in</button></form>
  <p id="login-error" class="error">${escapeHtml(message)}</p></section>
</div>`,
  );
}

/** The dashboard for one session; `csrf` (hex) is echoed by the page on every change it makes. */
export function dashboardHtml(csrf: string): string {
  return page('switchyard', `\n<meta name="switchyard-csrf" content="${escapeHtml(csrf)}">`, DASHBOARD_BODY);
}

const DASHBOARD_BODY = `<div id="app">
<header><h1>switchyard</h1><span class="env" id="env"></span><span class="muted" id="updated"></span> <button class="secondary" id="refresh" type="button">Refresh</button>
  <form method="post" action="/admin/logout" style="margin-left:auto"><button class="secondary" id="logout">Sign out</button></form></header>
<main>
  <section class="wide"><h2>Recent events</h2>
    <div class="filters"><select id="f-integration"><option value="">all integrations</option></select>
      <select id="f-status"><option value="">any status</option><option>queued</option><option>applied</option><option>ignored</option><option>retrying</option><option>dead_lettered</option><option>replayed</option></select>
      <select id="f-origin"><option value="">any origin</option><option value="backfill">backfilled</option><option value="repair">repaired</option></select>
      <form id="search-form" class="filters" style="margin:0"><input id="search" type="search" placeholder="event id, or a value in the payload" size="32"><button class="secondary" type="submit">Search</button></form></div>
    <p class="muted" id="search-note" hidden></p>
    <table><thead id="events-head"><tr><th>received</th><th>integration</th><th>type</th><th>id</th><th>status</th></tr></thead><tbody id="events"></tbody></table>
    <p><button class="secondary" id="search-more" type="button" hidden>Search older events</button></p>
    <div id="detail"></div></section>
  <section><h2>Dead letters</h2>
    <div class="filters"><select id="f-dead"><option value="open">open</option><option value="dismissed">dismissed</option><option value="all">all (replayed, dismissed)</option></select></div>
    <table><tbody id="dead"></tbody></table>
    <p><button class="secondary" id="replay-all" hidden>Replay all…</button></p><div id="replay-preview"></div><div id="dl-detail"></div></section>
  <section><h2>Usage</h2><div id="usage"></div></section>
  <section class="wide"><h2>Integration health (last hour, 24 h chart)</h2>
    <table><thead><tr><th>integration</th><th>accepted</th><th>rejected</th><th>failed</th><th>lag p50 / p99</th><th>24 h</th></tr></thead><tbody id="health"></tbody></table></section>
</main></div>
<script>
const $ = (id) => document.getElementById(id);
const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const csrf = document.querySelector('meta[name="switchyard-csrf"]').content;
async function api(path, init = {}) {
  const res = await fetch('/admin/api' + path, { ...init, credentials: 'same-origin', headers: { 'x-switchyard-csrf': csrf, 'content-type': 'application/json', ...(init.headers || {}) } });
  // The session expired or was revoked (ADMIN_TOKEN rotated): sign in again.
  if (res.status === 401) { location.assign('/admin/login'); throw new Error('auth'); }
  if (res.status === 403) { $('updated').textContent = (await res.json().catch(() => ({}))).message || 'refused'; throw new Error('auth'); }
  return res.json();
}
// A command's calls are logged under the source "command:<name>": shown as "command <name>".
function source(n) { return n.startsWith('command:') ? 'command ' + n.slice(8) : n; }
// A synthesised event (switchyard backfill, reconcile --repair) carries its origin; a provider's delivery has none.
function origin(o) { return o ? ' <span class="badge origin" title="not a signed delivery">' + esc(o) + '</span>' : ''; }
function when(iso) { const d = new Date(iso); return isNaN(d) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }); }
function spark(values) {
  const max = Math.max(1, ...values), w = 120, h = 24, step = w / Math.max(1, values.length - 1);
  const points = values.map((v, i) => (i * step).toFixed(1) + ',' + (h - 2 - (v / max) * (h - 4)).toFixed(1)).join(' ');
  return '<svg width="' + w + '" height="' + h + '" viewBox="0 0 ' + w + ' ' + h + '" aria-label="events per hour"><polyline fill="none" stroke="#58a6ff" stroke-width="1.5" points="' + points + '"/></svg>';
}
// A search: an exact id first (through the event log's key), else a value in the payload, which scans the log
// newest first, a bounded number of rows per call (reads cost D1 rows): "Search older events" goes on.
let search = null;
async function runSearch(more) {
  const text = $('search').value.trim();
  if (!text) { search = null; $('search-note').hidden = true; $('search-more').hidden = true; return loadEvents(); }
  if (!more) {
    search = { text, cursor: null, scanned: 0, found: [] };
    const q = new URLSearchParams({ id: text });
    if ($('f-integration').value) q.set('integration', $('f-integration').value);
    const byId = await api('/events?' + q);
    if (byId.events.length) { search.found = byId.events; showEvents(byId.events); note('event id ' + text + ': ' + byId.events.length + ' found'); $('search-more').hidden = true; return; }
  }
  const q = new URLSearchParams({ q: search.text, limit: '25' });
  if ($('f-integration').value) q.set('integration', $('f-integration').value);
  if (search.cursor) q.set('cursor', search.cursor);
  const page = await api('/events?' + q);
  search.found = search.found.concat(page.events); search.cursor = page.next_cursor; search.scanned += page.scan_limit;
  showEvents(search.found);
  note('no event has the id ' + search.text + '; payloads holding it: ' + search.found.length + ' found in the ' + (page.next_cursor ? search.scanned.toLocaleString() + ' most recent events' : 'whole log') + (page.next_cursor ? ' (a search reads at most ' + page.scan_limit.toLocaleString() + ' events a step)' : ''));
  $('search-more').hidden = !page.next_cursor;
}
function note(text) { $('search-note').textContent = text; $('search-note').hidden = false; }
function showEvents(events) {
  $('events').innerHTML = events.map((e) => '<tr class="event" data-integration="' + esc(e.integration) + '" data-id="' + esc(e.id) + '"><td>' + when(e.received_at) + '</td><td>' + esc(source(e.integration)) + origin(e.origin) + '</td><td>' + esc(e.type) + '</td><td>' + esc(e.id) + '</td><td><span class="badge ' + esc(e.status) + '">' + esc(e.status) + '</span></td></tr>').join('') || '<tr><td class="muted" colspan="5">' + (search ? 'nothing found' : 'no events yet') + '</td></tr>';
}
async function loadEvents() {
  if (search) return;
  const q = new URLSearchParams({ limit: '25' });
  if ($('f-integration').value) q.set('integration', $('f-integration').value);
  if ($('f-status').value) q.set('status', $('f-status').value);
  if ($('f-origin').value) q.set('origin', $('f-origin').value);
  const { events } = await api('/events?' + q);
  showEvents(events);
}
async function loadDead() {
  const view = $('f-dead').value;
  const { dead_letters } = await api('/dead-letters?view=' + view);
  const state = (d) => d.replayed_at ? ' <span class="badge replayed">replayed</span>' : d.dismissed_at ? ' <span class="badge ignored">dismissed</span>' : '';
  $('dead').innerHTML = dead_letters.map((d) => '<tr class="letter" data-seq="' + d.seq + '"><td class="err"><b>' + esc(source(d.integration)) + '</b> <span class="muted">' + esc(d.stage) + ' #' + d.seq + '</span>' + state(d) + '<br><span class="muted">' + esc(d.event_id) + '</span><br>' + esc(d.reason) + ': <span class="muted" title="open for the full error">' + esc(d.error || '') + '</span></td><td>' + (d.replayed_at || d.dismissed_at ? '' : '<button data-replay="' + d.seq + '">Replay</button>') + '</td></tr>').join('') || '<tr><td class="muted">none</td></tr>';
  $('replay-all').hidden = view !== 'open' || dead_letters.length < 2;
}
async function loadUsage() {
  const { limits, platform, projection } = await api('/usage');
  const bar = (label, used, max, warnAt) => {
    const f = max ? used / max : 0, cls = f >= 1 ? 'over' : warnAt && f >= warnAt ? 'hot' : '';
    return '<div>' + esc(label) + ' <span class="muted">' + used + ' / ' + max + '</span></div><div class="bar ' + cls + '"><i style="width:' + Math.min(100, f * 100).toFixed(1) + '%"></i>' + (warnAt ? '<b style="left:' + (warnAt * 100) + '%" title="warn at ' + Math.round(warnAt * 100) + '%"></b>' : '') + '</div>';
  };
  $('usage').innerHTML = limits.map((l) => bar(l.name + ' (' + l.period + ')', (l.usage.find((u) => u.key === '*') || l.usage[0] || { n: 0 }).n, l.limit, l.warn_at)).join('') +
    '<div class="muted" style="margin-top:8px">platform today (' + esc(platform.plan) + ' plan, estimated)</div>' + platform.metrics.map((m) => bar(m.metric.replace(/_/g, ' '), m.used, m.allowance, 0.8)).join('') +
    (projection && projection.fits ? '<div id="capacity" style="margin-top:8px">at ' + esc(projection.fits.mix) + ' mix, ' + Number(projection.fits.events_per_day).toLocaleString() + ' events/day fit; binding resource: ' + esc(projection.fits.binding.replace(/_/g, ' ')) + '</div>' : '');
}
async function loadHealth() {
  const { integrations } = await api('/health');
  const names = Object.keys(integrations);
  const select = $('f-integration');
  if (select.options.length === 1) for (const n of names) select.add(new Option(source(n), n));
  $('health').innerHTML = names.map((n) => { const h = integrations[n].hour, lag = h.lag_ms;
    return '<tr><td>' + esc(source(n)) + '</td><td>' + h.accepted + '</td><td>' + h.rejected + '</td><td class="' + (h.failed ? 'failed' : '') + '">' + h.failed + '</td><td>' + (lag.p50 === null ? '–' : lag.p50 + ' / ' + lag.p99 + ' ms') + '</td><td>' + spark(integrations[n].series) + '</td></tr>'; }).join('');
}
async function refresh() {
  try { await Promise.all([loadEvents(), loadDead(), loadUsage(), loadHealth()]); $('updated').textContent = 'updated ' + new Date().toLocaleTimeString(); } catch (e) { if (e.message !== 'auth') $('updated').textContent = 'refresh failed'; }
}
async function start() {
  const health = await fetch('/healthz').then((r) => r.json()).catch(() => ({}));
  $('env').textContent = (health.environment || '') + ' · manifest ' + String((health.manifest || {}).hash || '').slice(0, 12);
  await refresh();
  // Every read costs D1 rows on the free plan: poll every 30 s, and only while the page is visible.
  setInterval(() => { if (document.visibilityState === 'visible') refresh(); }, 30000);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') refresh(); });
  $('refresh').addEventListener('click', refresh);
}
$('f-integration').addEventListener('change', () => (search ? runSearch(false) : loadEvents())); $('f-status').addEventListener('change', loadEvents); $('f-origin').addEventListener('change', loadEvents); $('f-dead').addEventListener('change', loadDead);
$('search-form').addEventListener('submit', (e) => { e.preventDefault(); runSearch(false); });
$('search-more').addEventListener('click', () => runSearch(true));
const full = (iso) => { const d = new Date(iso); return isNaN(d) ? '' : d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'medium' }); };
const badge = (status) => '<span class="badge ' + esc(status) + '">' + esc(String(status).replace('_', ' ')) + '</span>';
const errorText = (text) => text ? '<div class="error-text">' + esc(text) + '</div>' : '';
const tone = { applied: 'ok', sent: 'ok', ignored: 'ok', retrying: 'warn', deferred: 'warn', dead_lettered: 'bad', dropped: 'bad', queued: 'info', replayed: 'info', pending: 'info', sending: 'info' };
// What replaying a result did, or why it did nothing.
const outcome = (r) => r.replayed.length ? 'Replayed ' + r.replayed.length : 'Skipped: ' + ((r.skipped[0] || {}).reason || 'nothing to replay');
/** The event as a timeline: received, each attempt and its error, dead letters, what the steps did, each effect, the next retry. */
function timeline(detail) {
  const ev = detail.event, items = [], steps = detail.steps || [], effects = detail.effects || [], letters = detail.dead_letters || [];
  items.push(['info', '<b>Received</b> ' + full(ev.received_at) + ' <span class="muted">' + ev.deliveries + (ev.deliveries === 1 ? ' delivery' : ' deliveries (the provider sent it again; deduplicated)') + (ev.occurred_at ? ' · occurred ' + full(ev.occurred_at) : '') + '</span>']);
  // Each failed attempt, with its error and how long it took (the store keeps one row per failure).
  const failed = (target) => (detail.attempts || []).filter((a) => a.target === target);
  const attemptItem = (a, what) => ['bad', '<b>' + what + ' attempt ' + a.n + ' failed</b> <span class="muted">' + full(a.at) + (a.duration_ms !== null ? ' · ' + a.duration_ms + ' ms' : '') + '</span>' + errorText(a.error)];
  for (const a of failed('event')) items.push(attemptItem(a, 'State'));
  if (!failed('event').length && (ev.attempts > 1 || ev.error || (ev.attempts > 0 && ev.status !== 'applied' && ev.status !== 'ignored'))) {
    items.push([tone[ev.status] || 'warn', '<b>' + ev.attempts + (ev.max_attempts ? ' of ' + ev.max_attempts : '') + ' attempts</b> ' + badge(ev.status) + ' <span class="muted">last at ' + full(ev.updated_at) + '</span>' + errorText(ev.error)]);
  }
  for (const d of letters) {
    items.push([d.replayed_at || d.dismissed_at ? 'info' : 'bad', '<b>Dead letter #' + d.seq + '</b> <span class="muted">' + esc(d.stage) + ' · ' + esc(d.reason) + ' · ' + d.attempts + (d.attempts === 1 ? ' attempt' : ' attempts') + ', first failed ' + full(d.first_failed_at) + ', last ' + full(d.last_failed_at) + (d.replayed_at ? ' · replayed ' + full(d.replayed_at) : '') + (d.dismissed_at ? ' · dismissed ' + full(d.dismissed_at) : '') + '</span>' + errorText(d.error)]);
  }
  if (detail.applied_at || ev.status === 'ignored') {
    const did = steps.map((s, i) => '<li>step ' + i + ' <b>' + esc(s.kind) + '</b> <span class="muted">' + [s.statements + ' SQL statement' + (s.statements === 1 ? '' : 's'), s.outbox + ' queued', s.actions + ' effect' + (s.actions === 1 ? '' : 's')].join(' · ') + '</span></li>').join('');
    items.push(['ok', '<b>' + (ev.status === 'ignored' ? 'Ignored' : 'Applied') + '</b> ' + full(detail.applied_at || ev.updated_at) + (did ? '<ul>' + did + '</ul>' : ' <span class="muted">no handler for this type</span>')]);
  }
  for (const f of effects) {
    for (const a of failed(f.step)) items.push(attemptItem(a, 'Effect ' + esc(f.step) + ' ' + esc(f.action)));
    const retry = f.status === 'retrying' || f.status === 'deferred' ? ' · next ' + (f.status === 'deferred' ? 'try (deferred) ' : 'retry ') + full(f.next_at) : '';
    items.push([tone[f.status] || 'info', '<b>Effect ' + esc(f.step) + ' ' + esc(f.action) + '</b> ' + badge(f.status) + ' <span class="muted">attempt ' + f.attempts + (f.max_attempts ? ' of ' + f.max_attempts : '') + retry + '</span>' + errorText(f.error)]);
  }
  const next = [ev.status === 'retrying' ? ev.next_at : null].concat(effects.filter((f) => f.status === 'retrying' || f.status === 'deferred').map((f) => f.next_at)).filter(Boolean).sort()[0];
  if (next) items.push(['warn', '<b>Next retry</b> ' + full(next)]);
  return '<ol class="timeline" id="timeline">' + items.map(([cls, html]) => '<li class="' + cls + '">' + html + '</li>').join('') + '</ol>';
}
const REPLAYABLE = ['queued', 'retrying', 'dead_lettered', 'replayed'];
async function showEvent(integration, id) {
  const detail = await api('/events/' + encodeURIComponent(integration) + '/' + encodeURIComponent(id));
  const ev = detail.event, open = (detail.dead_letters || []).filter((d) => !d.replayed_at && !d.dismissed_at);
  // Replay what failed: its open dead letters (the event's or its effects'), else the event from its stored body.
  const canReplay = open.length > 0 || REPLAYABLE.includes(ev.status);
  $('detail').innerHTML = '<div class="panel"><h2>' + esc(source(integration)) + origin(ev.origin) + ' / ' + esc(id) + ' ' + badge(ev.status) + '</h2><div class="muted">' + esc(ev.type) + '</div>'
    + '<div class="actions"><button id="event-replay" type="button"' + (canReplay ? '' : ' disabled title="applied events are deduplicated: use rebuild"') + '>Replay</button><span class="muted" id="event-replay-result">' + (canReplay ? '' : ev.status + ': nothing to replay (effects retry on their own; rebuild re-runs projections)') + '</span></div>'
    + timeline(detail)
    + '<details id="payload"><summary>Payload (' + JSON.stringify(ev.payload ?? null).length.toLocaleString() + ' bytes)</summary><pre>' + esc(JSON.stringify(ev.payload, null, 2)) + '</pre></details></div>';
  $('event-replay').addEventListener('click', async (e) => {
    e.target.disabled = true; e.target.textContent = 'Replaying…';
    const result = open.length
      ? await api('/dead-letters/replay', { method: 'POST', body: JSON.stringify({ seq: open.map((d) => d.seq) }) })
      : await api('/events/replay', { method: 'POST', body: JSON.stringify({ integration, id }) });
    e.target.textContent = 'Replay'; $('event-replay-result').textContent = outcome(result);
    setTimeout(refresh, 500);
  });
}
$('events').addEventListener('click', (e) => { const row = e.target.closest('tr.event'); if (row) showEvent(row.dataset.integration, row.dataset.id); });
const headerLines = (d) => (d.content_type ? ['content-type: ' + d.content_type] : []).concat(Object.entries(d.headers || {}).map(([k, v]) => k + ': ' + v)).join('\\n');
const pretty = (v) => { try { return JSON.stringify(typeof v === 'string' ? JSON.parse(v) : v, null, 2); } catch { return String(v); } };
async function showLetter(seq) {
  const { dead_letter: d } = await api('/dead-letters/' + seq);
  const closed = d.replayed_at || d.dismissed_at;
  $('dl-detail').innerHTML = '<div class="panel"><h2>Dead letter #' + d.seq + ' · ' + esc(source(d.integration)) + ' ' + esc(d.stage) + '</h2>'
    + '<div class="muted">' + esc(d.event_id) + ' · ' + esc(d.reason) + ' · ' + d.attempts + (d.attempts === 1 ? ' attempt' : ' attempts') + ' · first failed ' + full(d.first_failed_at) + ', last ' + full(d.last_failed_at) + (d.replayed_at ? ' · replayed ' + full(d.replayed_at) : '') + (d.dismissed_at ? ' · dismissed ' + full(d.dismissed_at) + ' by ' + esc(d.dismissed_by) : '') + '</div>'
    + '<h2 style="margin-top:10px">Error</h2><pre id="dl-error" class="error-text">' + esc(d.error || '(none)') + '</pre>'
    + (d.stage === 'ingest' ? '<h2>Headers <span class="muted">(content type, and those the extraction rules read)</span></h2><pre id="dl-headers">' + esc(headerLines(d)) + '</pre>' : '')
    + (d.raw_body !== null ? '<details id="dl-body" open><summary>Raw body' + (d.content_type ? ' (' + esc(d.content_type) + ')' : '') + '</summary><pre>' + esc(pretty(d.raw_body)) + '</pre></details>' : '')
    + (d.envelope ? '<details><summary>Envelope</summary><pre>' + esc(pretty(d.envelope)) + '</pre></details>' : '')
    + (closed ? '' : '<div class="actions"><button id="dl-replay" type="button">Replay</button><button id="dl-dismiss" class="secondary" type="button" title="it can never succeed: keep it in the log, out of the open list and alerts">Dismiss</button><span class="muted" id="dl-result"></span></div>') + '</div>';
  if (closed) return;
  $('dl-replay').addEventListener('click', () => replayLetter(seq, $('dl-replay'), $('dl-result')));
  $('dl-dismiss').addEventListener('click', async () => {
    const res = await api('/dead-letters/' + seq + '/dismiss', { method: 'POST' });
    $('dl-result').textContent = res.dismissed_at ? 'Dismissed (kept in the log: see the dismissed filter)' : res.message || 'not dismissed';
    setTimeout(refresh, 300);
  });
}
async function replayLetter(seq, button, where) {
  button.disabled = true; button.textContent = 'Replaying…';
  const result = await api('/dead-letters/replay', { method: 'POST', body: JSON.stringify({ seq: [Number(seq)] }) });
  button.textContent = result.replayed.length ? 'Replayed' : 'Skipped';
  if (where) where.textContent = outcome(result); else button.title = outcome(result);
  if (!result.replayed.length) button.insertAdjacentHTML('afterend', '<div class="error-text skip-reason">' + esc(outcome(result)) + '</div>');
  setTimeout(refresh, 500);
}
$('dead').addEventListener('click', (e) => {
  const seq = e.target.dataset && e.target.dataset.replay;
  if (seq) return replayLetter(seq, e.target, null);
  const row = e.target.closest('tr.letter'); if (row) showLetter(row.dataset.seq);
});
// Bulk replay shows what it would do first (a dry run), then replays on confirmation.
$('replay-all').addEventListener('click', async () => {
  const p = await api('/dead-letters/replay', { method: 'POST', body: JSON.stringify({ all: true, dry_run: true }) });
  const counts = (o) => Object.entries(o).map(([k, n]) => esc(k) + ' ' + n).join(', ');
  $('replay-preview').innerHTML = '<div class="panel" id="preview"><b>Replay ' + p.count + ' dead letter' + (p.count === 1 ? '' : 's') + (p.truncated ? ' (the first ' + p.count + '; run again for the rest)' : '') + '?</b><div class="muted">integrations: ' + counts(p.integrations) + '<br>stages: ' + counts(p.stages) + '</div>'
    + '<div class="actions"><button id="replay-confirm" type="button">Replay ' + p.count + '</button><button id="replay-cancel" class="secondary" type="button">Cancel</button></div></div>';
  $('replay-cancel').addEventListener('click', () => { $('replay-preview').innerHTML = ''; });
  $('replay-confirm').addEventListener('click', async () => {
    const r = await api('/dead-letters/replay', { method: 'POST', body: JSON.stringify({ all: true }) });
    $('replay-preview').innerHTML = '<div class="panel muted">Replayed ' + r.replayed.length + ', skipped ' + r.skipped.length + r.skipped.map((s) => '<br>#' + s.seq + ' ' + esc(s.reason)).join('') + '</div>';
    refresh();
  });
});
start();
</script>`;
