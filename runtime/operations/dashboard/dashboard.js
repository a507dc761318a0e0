const $ = (id) => document.getElementById(id);
const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const csrf = document.querySelector('meta[name="switchyard-csrf"]').content;
// The event log's vocabulary (runtime/store/status.ts), put in the page by `switchyard build`: statuses are never spelled here.
const { event: EVENT, effect: EFFECT, stage: STAGE } = JSON.parse($('switchyard-vocabulary').textContent);
for (const status of Object.values(EVENT)) $('f-status').add(new Option(status));
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
// A time from today reads as the time; an older one carries its date. The exact UTC instant is in the title.
function when(iso) { const d = new Date(iso); if (isNaN(d)) return ''; const today = d.toDateString() === new Date().toDateString(); return d.toLocaleString([], today ? { hour: '2-digit', minute: '2-digit', second: '2-digit' } : { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' }); }
// An event's worst effect (a failure first): its badge says what and how far ("resend retrying, attempt 2 of 5 failed").
function effectBadge(e) {
  if (!e.effect) return '';
  const f = e.effect, more = e.effects_failing > 1 ? ' +' + (e.effects_failing - 1) : '';
  return '<span class="badge effect ' + esc(f.status) + (f.dismissed_at ? ' dismissed' : '') + '" title="' + esc(f.label + (f.error ? ': ' + f.error : '')) + '">' + esc(f.summary) + more + '</span>';
}
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
  $('events').innerHTML = events.map((e) => '<tr class="event" data-integration="' + esc(e.integration) + '" data-id="' + esc(e.id) + '"><td>' + when(e.received_at) + '</td><td>' + esc(source(e.integration)) + origin(e.origin) + '</td><td>' + esc(e.type) + '</td><td>' + esc(e.id) + '</td><td><span class="badge ' + esc(e.status) + '">' + esc(e.status) + '</span></td><td>' + effectBadge(e) + '</td></tr>').join('') || '<tr><td class="muted" colspan="6">' + (search ? 'nothing found' : 'no events yet') + '</td></tr>';
}
async function loadEvents() {
  if (search) return;
  const q = new URLSearchParams({ limit: '25' });
  if ($('f-integration').value) q.set('integration', $('f-integration').value);
  if ($('f-status').value) q.set('status', $('f-status').value);
  if ($('f-origin').value) q.set('origin', $('f-origin').value);
  if ($('f-effects').value) q.set('effects', $('f-effects').value);
  const { events } = await api('/events?' + q);
  showEvents(events);
}
async function loadDead() {
  const view = $('f-dead').value;
  const { dead_letters } = await api('/dead-letters?view=' + view);
  const state = (d) => d.replayed_at ? ' ' + badge(EVENT.replayed) : d.dismissed_at ? ' <span class="badge ' + EVENT.ignored + '">dismissed</span>' : '';
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
    return '<tr><td>' + esc(source(n)) + '</td><td>' + h.accepted + '</td><td>' + h.rejected + '</td><td class="' + (h.failed ? 'failed' : '') + '">' + h.failed + '</td><td class="effects-failing">' + effectsFailing(integrations[n].effects) + '</td><td>' + (lag.p50 === null ? '–' : lag.p50 + ' / ' + lag.p99 + ' ms') + '</td><td>' + spark(integrations[n].series) + '</td></tr>'; }).join('');
}
// Effects failing now, per integration: retrying, and dead-lettered with the letter open.
function effectsFailing(f) {
  if (!f || (!f.retrying && !f.dead_lettered)) return '<span class="muted">0</span>';
  return [f.retrying ? '<span class="' + EFFECT.retrying + '">' + f.retrying + ' retrying</span>' : '', f.dead_lettered ? '<span class="' + EFFECT.dead_lettered + '">' + f.dead_lettered + ' dead-lettered</span>' : ''].filter(Boolean).join(' · ');
}
// The effects failing now, grouped by why; each group can be retried at once, after a preview.
async function loadFailing() {
  const { reasons } = await api('/effects/failing');
  $('failing').innerHTML = reasons.map((r) => '<tr class="reason"><td class="err"><b>' + esc(r.reason) + '</b> <span class="muted">' + r.count + (r.count === 1 ? ' effect' : ' effects') + ' · ' + Object.entries(r.statuses).map(([k, n]) => esc(k.replace('_', '-')) + ' ' + n).join(', ') + '</span><br><span class="muted">' + r.sample.map((s) => esc(s.label) + ' · ' + esc(s.id)).slice(0, 2).join('<br>') + '</span></td><td><button class="bulk-retry" data-reason="' + esc(r.reason) + '" type="button">Retry ' + r.count + '…</button></td></tr>').join('') || '<tr><td class="muted">none</td></tr>';
}
async function refresh() {
  try { await Promise.all([loadEvents(), loadDead(), loadUsage(), loadHealth(), loadFailing()]); $('updated').textContent = 'updated ' + new Date().toLocaleTimeString(); } catch (e) { if (e.message !== 'auth') $('updated').textContent = 'refresh failed'; }
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
$('f-integration').addEventListener('change', () => (search ? runSearch(false) : loadEvents())); $('f-status').addEventListener('change', loadEvents); $('f-origin').addEventListener('change', loadEvents); $('f-effects').addEventListener('change', loadEvents); $('f-dead').addEventListener('change', loadDead);
$('search-form').addEventListener('submit', (e) => { e.preventDefault(); runSearch(false); });
$('search-more').addEventListener('click', () => runSearch(true));
const full = (iso) => { const d = new Date(iso); return isNaN(d) ? '' : d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'medium' }); };
const badge = (status) => '<span class="badge ' + esc(status) + '">' + esc(String(status).replace('_', ' ')) + '</span>';
const errorText = (text) => text ? '<div class="error-text">' + esc(text) + '</div>' : '';
// How each status reads in the timeline (the badges' colours are in page.css, by the same names).
const tone = {
  [EVENT.applied]: 'ok', [EFFECT.sent]: 'ok', [EVENT.ignored]: 'ok', [EVENT.skipped]: 'ok', [EVENT.retrying]: 'warn', [EFFECT.deferred]: 'warn', [EVENT.dead_lettered]: 'bad',
  [EFFECT.dropped]: 'bad', [EVENT.queued]: 'info', [EVENT.replayed]: 'info', [EFFECT.pending]: 'info', [EFFECT.sending]: 'info',
};
// What replaying a result did, or why it did nothing.
const outcome = (r) => r.replayed.length ? 'Replayed ' + r.replayed.length : 'Skipped: ' + ((r.skipped[0] || {}).reason || 'nothing to replay');
// What a step did, read by its kind (an SQL step's statements, an enqueue's messages, an action's effects), else every count.
const counted = (n, one, many) => n + (n === 1 ? one : many);
const STEP_COUNTS = { sql: (s) => counted(s.statements, ' SQL statement', ' SQL statements'), enqueue: (s) => counted(s.outbox, ' message queued', ' messages queued'), action: (s) => counted(s.actions, ' effect', ' effects') };
const stepDid = (s) => STEP_COUNTS[s.kind] ? STEP_COUNTS[s.kind](s) : [counted(s.statements, ' SQL statement', ' SQL statements'), s.outbox + ' queued', counted(s.actions, ' effect', ' effects')].join(' · ');
const SETTLED = [EVENT.applied, EVENT.ignored, EVENT.skipped];
/** The event as a timeline: received, each attempt and its error, dead letters, what the steps did, each effect, the next retry. */
function timeline(detail) {
  const ev = detail.event, items = [], steps = detail.steps || [], effects = detail.effects || [], letters = detail.dead_letters || [];
  items.push(['info', '<b>Received</b> ' + full(ev.received_at) + ' <span class="muted">' + ev.deliveries + (ev.deliveries === 1 ? ' delivery' : ' deliveries (the provider sent it again; deduplicated)') + (ev.occurred_at ? ' · occurred ' + full(ev.occurred_at) : '') + '</span>']);
  // Each failed attempt, with its error and how long it took (the store keeps one row per failure).
  const failed = (target) => (detail.attempts || []).filter((a) => a.target === target);
  const attemptItem = (a, what) => ['bad', '<b>' + what + ' attempt ' + a.n + ' failed</b> <span class="muted">' + full(a.at) + (a.duration_ms !== null ? ' · ' + a.duration_ms + ' ms' : '') + '</span>' + errorText(a.error)];
  for (const a of failed('event')) items.push(attemptItem(a, 'State'));
  if (!failed('event').length && (ev.attempts > 1 || ev.error || (ev.attempts > 0 && !SETTLED.includes(ev.status)))) {
    items.push([tone[ev.status] || 'warn', '<b>' + ev.attempts + (ev.max_attempts ? ' of ' + ev.max_attempts : '') + ' attempts</b> ' + badge(ev.status) + ' <span class="muted">last at ' + full(ev.updated_at) + '</span>' + errorText(ev.error)]);
  }
  for (const d of letters) {
    items.push([d.replayed_at || d.dismissed_at ? 'info' : 'bad', '<b>Dead letter #' + d.seq + '</b> <span class="muted">' + esc(d.stage) + ' · ' + esc(d.reason) + ' · ' + d.attempts + (d.attempts === 1 ? ' attempt' : ' attempts') + ', first failed ' + full(d.first_failed_at) + ', last ' + full(d.last_failed_at) + (d.replayed_at ? ' · replayed ' + full(d.replayed_at) : '') + (d.dismissed_at ? ' · dismissed ' + full(d.dismissed_at) : '') + '</span>' + errorText(d.error)]);
  }
  if (detail.applied_at || ev.status === EVENT.ignored || ev.status === EVENT.skipped) {
    const did = steps.map((s, i) => '<li class="step">step ' + i + ' <b>' + esc(s.kind) + '</b> ' + (s.skipped !== undefined ? '<span class="badge ' + EVENT.skipped + '">' + esc(EVENT.skipped) + '</span> <span class="condition">' + esc(s.skipped) + '</span>' : '<span class="muted">' + stepDid(s) + '</span>') + '</li>').join('');
    const what = ev.status === EVENT.ignored ? 'Ignored' : ev.status === EVENT.skipped ? 'Skipped (condition)' : 'Applied';
    items.push(['ok', '<b>' + what + '</b> ' + full(detail.applied_at || ev.updated_at) + (did ? '<ul>' + did + '</ul>' : ' <span class="muted">no handler for this type</span>')]);
  }
  for (const f of effects) {
    // An effect reads as the manifest names its step (stripe.handlers[2].steps[1] resend), never as its row key.
    const label = esc(f.label || f.action);
    for (const a of failed(f.step)) items.push(attemptItem(a, label));
    const retry = f.status === EFFECT.retrying || f.status === EFFECT.deferred ? ' · next ' + (f.status === EFFECT.deferred ? 'try (deferred) ' : 'retry ') + full(f.next_at) : '';
    const now = RETRYABLE_EFFECTS.includes(f.status) ? ' <button class="retry-effect secondary" type="button" data-step="' + esc(f.step) + '">Retry now</button><span class="muted retry-result" data-step="' + esc(f.step) + '"></span>' : '';
    items.push([tone[f.status] || 'info', '<b>' + label + '</b> ' + badge(f.status) + ' <span class="muted">attempt ' + f.attempts + (f.max_attempts ? ' of ' + f.max_attempts : '') + retry + '</span>' + now + errorText(f.error)]);
  }
  const next = [ev.status === EVENT.retrying ? ev.next_at : null].concat(effects.filter((f) => f.status === EFFECT.retrying || f.status === EFFECT.deferred).map((f) => f.next_at)).filter(Boolean).sort()[0];
  if (next) items.push(['warn', '<b>Next retry</b> ' + full(next)]);
  return '<ol class="timeline" id="timeline">' + items.map(([cls, html]) => '<li class="' + cls + '">' + html + '</li>').join('') + '</ol>';
}
// Effects an operator may send now: waiting for a retry or a limit's reset, or given up on.
const RETRYABLE_EFFECTS = [EFFECT.retrying, EFFECT.deferred, EFFECT.dead_lettered];
const REPLAYABLE = [EVENT.queued, EVENT.retrying, EVENT.dead_lettered, EVENT.replayed];
async function showEvent(integration, id) {
  const detail = await api('/events/' + encodeURIComponent(integration) + '/' + encodeURIComponent(id));
  const ev = detail.event, open = (detail.dead_letters || []).filter((d) => !d.replayed_at && !d.dismissed_at);
  // Replay what failed: its open dead letters (the event's or its effects'), else the event from its stored body.
  const canReplay = open.length > 0 || REPLAYABLE.includes(ev.status);
  $('detail').innerHTML = '<div class="panel"><h2>' + esc(source(integration)) + origin(ev.origin) + ' / ' + esc(id) + ' ' + badge(ev.status) + '</h2><div class="muted">' + esc(ev.type) + '</div>'
    + '<div class="actions"><button id="event-replay" type="button"' + (canReplay ? '' : ' disabled title="applied events are deduplicated: use rebuild"') + '>Replay</button><span class="muted" id="event-replay-result">' + (canReplay ? '' : ev.status + ': nothing to replay (effects retry on their own; rebuild re-runs projections)') + '</span></div>'
    + timeline(detail)
    + '<details id="payload"><summary>Payload (' + JSON.stringify(ev.payload ?? null).length.toLocaleString() + ' bytes)</summary><pre>' + esc(JSON.stringify(ev.payload, null, 2)) + '</pre></details></div>';
  for (const button of document.querySelectorAll('#detail button.retry-effect')) button.addEventListener('click', async () => {
    const step = button.dataset.step, where = document.querySelector('#detail .retry-result[data-step="' + CSS.escape(step) + '"]');
    button.disabled = true; button.textContent = 'Sending…';
    // A 409 (sent already, or being sent) answers why, as JSON: shown beside the button.
    const body = await api('/effects/retry', { method: 'POST', body: JSON.stringify({ integration, id, step }) });
    const done = (body.retried || [])[0];
    button.textContent = 'Retry now';
    where.textContent = done ? ' ' + done.status.replace('_', ' ') + ' (attempt ' + done.attempt + ')' + (done.error ? ': ' + done.error : '') : ' ' + (body.message || 'not retried');
    setTimeout(() => { refresh(); showEvent(integration, id); }, 800);
  });
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
const headerLines = (d) => (d.content_type ? ['content-type: ' + d.content_type] : []).concat(Object.entries(d.headers || {}).map(([k, v]) => k + ': ' + v)).join('\n');
const pretty = (v) => { try { return JSON.stringify(typeof v === 'string' ? JSON.parse(v) : v, null, 2); } catch { return String(v); } };
async function showLetter(seq) {
  const { dead_letter: d } = await api('/dead-letters/' + seq);
  const closed = d.replayed_at || d.dismissed_at;
  $('dl-detail').innerHTML = '<div class="panel"><h2>Dead letter #' + d.seq + ' · ' + esc(source(d.integration)) + ' ' + esc(d.stage) + '</h2>'
    + '<div class="muted">' + esc(d.event_id) + ' · ' + esc(d.reason) + ' · ' + d.attempts + (d.attempts === 1 ? ' attempt' : ' attempts') + ' · first failed ' + full(d.first_failed_at) + ', last ' + full(d.last_failed_at) + (d.replayed_at ? ' · replayed ' + full(d.replayed_at) : '') + (d.dismissed_at ? ' · dismissed ' + full(d.dismissed_at) + ' by ' + esc(d.dismissed_by) : '') + '</div>'
    + (d.effect ? effectLetter(d.effect) : '')
    + '<h2 style="margin-top:10px">Error</h2><pre id="dl-error" class="error-text">' + esc(d.error || '(none)') + '</pre>'
    + (d.stage === STAGE.ingest ? '<h2>Headers <span class="muted">(content type, and those the extraction rules read)</span></h2><pre id="dl-headers">' + esc(headerLines(d)) + '</pre>' : '')
    + (d.raw_body !== null ? '<details id="dl-body"' + (d.effect ? '' : ' open') + '><summary>' + (d.effect ? 'The event’s raw body' : 'Raw body') + (d.content_type ? ' (' + esc(d.content_type) + ')' : '') + '</summary><pre>' + esc(pretty(d.raw_body)) + '</pre></details>' : '')
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
// An effect's letter: what was being sent (secrets redacted by the API), what the provider answered, each attempt.
function effectLetter(f) {
  const lines = Object.entries(f.request || {}).map(([k, v]) => '<tr><th>' + esc(k) + '</th><td>' + esc(v) + '</td></tr>').join('');
  const a = f.answer || {};
  return '<h2 style="margin-top:10px">Sending: ' + esc(f.label) + '</h2><table id="dl-request" class="kv">' + lines + '</table>'
    + '<h2 style="margin-top:10px">Provider answered</h2><div id="dl-answer"><b>' + (a.status === null || a.status === undefined ? 'no answer' : 'HTTP ' + esc(a.status)) + (a.code ? ' ' + esc(a.code) : '') + '</b> <span class="muted">' + full(a.at) + '</span><pre class="error-text">' + esc(a.excerpt || '') + '</pre></div>'
    + ((f.attempts || []).length ? '<ol class="attempts">' + f.attempts.map((t) => '<li><span class="muted">attempt ' + t.n + ' · ' + full(t.at) + (t.duration_ms !== null ? ' · ' + t.duration_ms + ' ms' : '') + '</span> ' + esc(t.error) + '</li>').join('') + '</ol>' : '');
}
// Bulk retry by reason: a preview (how many, a sample) first, then the retry on confirmation.
$('failing').addEventListener('click', async (e) => {
  const reason = e.target.dataset && e.target.dataset.reason;
  if (!reason) return;
  const p = await api('/effects/retry', { method: 'POST', body: JSON.stringify({ reason, dry_run: true }) });
  $('bulk-preview').innerHTML = '<div class="panel" id="bulk"><b>Retry ' + p.count + ' effect' + (p.count === 1 ? '' : 's') + ' that failed with “' + esc(p.reason) + '”' + (p.truncated ? ' (the first ' + p.count + '; run again for the rest)' : '') + '?</b><div class="muted">' + p.sample.map((s) => esc(s.label) + ' · ' + esc(s.id) + ' · ' + esc(s.status.replace('_', '-')) + ' after ' + s.attempts).join('<br>') + (p.count > p.sample.length ? '<br>and ' + (p.count - p.sample.length) + ' more' : '') + '</div>'
    + '<div class="actions"><button id="bulk-confirm" type="button">Retry ' + p.count + ' now</button><button id="bulk-cancel" class="secondary" type="button">Cancel</button></div></div>';
  $('bulk-cancel').addEventListener('click', () => { $('bulk-preview').innerHTML = ''; });
  $('bulk-confirm').addEventListener('click', async () => {
    $('bulk-confirm').disabled = true;
    const r = await api('/effects/retry', { method: 'POST', body: JSON.stringify({ reason }) });
    const counts = {}; for (const x of r.retried) counts[x.status] = (counts[x.status] || 0) + 1;
    $('bulk-preview').innerHTML = '<div class="panel muted" id="bulk-result">Retried ' + r.retried.length + ': ' + (Object.entries(counts).map(([k, n]) => esc(k.replace('_', ' ')) + ' ' + n).join(', ') || 'nothing') + (r.skipped.length ? '; skipped ' + r.skipped.length + r.skipped.map((s) => '<br>' + esc(s.id) + ' ' + esc(s.reason)).join('') : '') + '</div>';
    refresh();
  });
});
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
// Refused requests: the refusal log (sampled and capped; every refusal is counted in health), newest first. Its own
// poll, on the page's schedule: what was refused, when, why, which secrets were tried; headers redacted, no body.
async function loadRefusals() {
  const { refusals, caps } = await api('/refusals?limit=20');
  $('refusals-note').textContent = 'kept: at most ' + caps.per_integration_per_minute + ' per integration a minute, ' + caps.per_hour + ' an hour; bodies never, only their SHA-256 and size';
  $('refusals').innerHTML = refusals.map((r) => '<tr><td title="' + esc(full(r.at)) + '">' + esc(when(r.at)) + '</td><td>' + esc(source(r.integration)) + '</td><td>' + r.status + ' ' + esc(r.reason) + '</td><td>' + esc(r.method + ' ' + r.route)
    + '<br><span class="muted">secrets tried: ' + esc(r.secrets.join(', ') || 'none') + '<br>body ' + r.body_size + ' bytes' + (r.body_sha256 ? ', sha256 ' + esc(r.body_sha256.slice(0, 16)) + '…' : '') + '</span></td>'
    + '<td><details><summary>' + Object.keys(r.headers).length + ' headers</summary><pre>' + esc(Object.entries(r.headers).map(([k, v]) => k + ': ' + v).join('\n')) + '</pre></details></td></tr>').join('') || '<tr><td class="muted" colspan="5">none</td></tr>';
}
const refusalsQuietly = () => loadRefusals().catch(() => undefined);
setInterval(() => { if (document.visibilityState === 'visible') refusalsQuietly(); }, 30000);
$('refresh').addEventListener('click', refusalsQuietly);
refusalsQuietly();
start();
