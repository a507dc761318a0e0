/**
 * The dashboard at /admin: one small HTML page, no framework, usable on a phone, and its login form. The page is
 * served only to a signed-in session (runtime/admin-pages.ts) and keeps no credential: its requests to
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
  .applied, .sent { color: var(--ok); } .queued, .replayed, .pending, .sending, .deferred { color: var(--info); } .retrying { color: var(--warn); } .dead_lettered { color: var(--bad); } .ignored, .dropped { color: var(--muted, #888); }
  input, select, button { font: inherit; color: var(--text); background: #0d1117; border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; }
  button { cursor: pointer; background: #238636; border-color: #2ea043; } button.secondary { background: #21262d; border-color: var(--line); }
  .filters { display: flex; gap: 8px; margin-bottom: 8px; flex-wrap: wrap; }
  .bar { position: relative; height: 10px; background: #0d1117; border-radius: 5px; overflow: hidden; margin: 4px 0 10px; }
  .bar > i { position: absolute; inset: 0 auto 0 0; background: var(--ok); } .bar > b { position: absolute; top: 0; bottom: 0; width: 2px; background: var(--warn); }
  .bar.hot > i { background: var(--warn); } .bar.over > i { background: var(--bad); }
  .muted { color: var(--dim); } pre { white-space: pre-wrap; word-break: break-word; background: #0d1117; padding: 8px; border-radius: 6px; max-height: 320px; overflow: auto; }
  svg { display: block; }
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
      <select id="f-status"><option value="">any status</option><option>queued</option><option>applied</option><option>ignored</option><option>retrying</option><option>dead_lettered</option><option>replayed</option></select></div>
    <table><thead id="events-head"><tr><th>received</th><th>integration</th><th>type</th><th>id</th><th>status</th></tr></thead><tbody id="events"></tbody></table>
    <div id="detail"></div></section>
  <section><h2>Dead letters</h2><table><tbody id="dead"></tbody></table>
    <p><button class="secondary" id="replay-all" hidden>Replay all</button></p></section>
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
function when(iso) { const d = new Date(iso); return isNaN(d) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }); }
function spark(values) {
  const max = Math.max(1, ...values), w = 120, h = 24, step = w / Math.max(1, values.length - 1);
  const points = values.map((v, i) => (i * step).toFixed(1) + ',' + (h - 2 - (v / max) * (h - 4)).toFixed(1)).join(' ');
  return '<svg width="' + w + '" height="' + h + '" viewBox="0 0 ' + w + ' ' + h + '" aria-label="events per hour"><polyline fill="none" stroke="#58a6ff" stroke-width="1.5" points="' + points + '"/></svg>';
}
async function loadEvents() {
  const q = new URLSearchParams({ limit: '25' });
  if ($('f-integration').value) q.set('integration', $('f-integration').value);
  if ($('f-status').value) q.set('status', $('f-status').value);
  const { events } = await api('/events?' + q);
  $('events').innerHTML = events.map((e) => '<tr class="event" data-integration="' + esc(e.integration) + '" data-id="' + esc(e.id) + '"><td>' + when(e.received_at) + '</td><td>' + esc(e.integration) + '</td><td>' + esc(e.type) + '</td><td>' + esc(e.id) + '</td><td><span class="badge ' + esc(e.status) + '">' + esc(e.status) + '</span></td></tr>').join('') || '<tr><td class="muted" colspan="5">no events yet</td></tr>';
}
async function loadDead() {
  const { dead_letters } = await api('/dead-letters');
  $('dead').innerHTML = dead_letters.map((d) => '<tr><td><b>' + esc(d.integration) + '</b> <span class="muted">' + esc(d.stage) + '</span><br><span class="muted">' + esc(d.event_id) + '</span><br>' + esc(d.reason) + ': <span class="muted">' + esc((d.error || '').slice(0, 80)) + '</span></td><td><button data-replay="' + d.seq + '">Replay</button></td></tr>').join('') || '<tr><td class="muted">none</td></tr>';
  $('replay-all').hidden = dead_letters.length < 2;
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
  if (select.options.length === 1) for (const n of names) select.add(new Option(n, n));
  $('health').innerHTML = names.map((n) => { const h = integrations[n].hour, lag = h.lag_ms;
    return '<tr><td>' + esc(n) + '</td><td>' + h.accepted + '</td><td>' + h.rejected + '</td><td class="' + (h.failed ? 'failed' : '') + '">' + h.failed + '</td><td>' + (lag.p50 === null ? '–' : lag.p50 + ' / ' + lag.p99 + ' ms') + '</td><td>' + spark(integrations[n].series) + '</td></tr>'; }).join('');
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
$('f-integration').addEventListener('change', loadEvents); $('f-status').addEventListener('change', loadEvents);
$('events').addEventListener('click', async (e) => {
  const row = e.target.closest('tr.event'); if (!row) return;
  const detail = await api('/events/' + encodeURIComponent(row.dataset.integration) + '/' + encodeURIComponent(row.dataset.id));
  const ev = detail.event;
  const retry = (x) => x.status === 'retrying' ? ' attempt ' + x.attempts + ' of ' + (x.max_attempts ?? '?') + ', next at ' + when(x.next_at) : '';
  const line = (label, x) => '<p><b>' + esc(label) + '</b> <span class="badge ' + esc(x.status) + '">' + esc(x.status) + '</span>' + esc(retry(x)) + (x.error ? '<br><span class="muted">' + esc(x.error) + '</span>' : '') + '</p>';
  $('detail').innerHTML = '<h2>' + esc(row.dataset.integration) + ' / ' + esc(row.dataset.id) + '</h2>' + line('event', ev)
    + (detail.effects || []).map((e) => line('effect ' + e.step + ' ' + e.action, e)).join('')
    + '<pre>' + esc(JSON.stringify(detail, null, 2)) + '</pre>';
});
$('dead').addEventListener('click', async (e) => {
  const seq = e.target.dataset && e.target.dataset.replay; if (!seq) return;
  e.target.disabled = true; e.target.textContent = 'Replaying…';
  const result = await api('/dead-letters/replay', { method: 'POST', body: JSON.stringify({ seq: [Number(seq)] }) });
  e.target.textContent = result.replayed.length ? 'Replayed' : 'Skipped';
  setTimeout(refresh, 500);
});
$('replay-all').addEventListener('click', async () => { await api('/dead-letters/replay', { method: 'POST', body: JSON.stringify({ all: true }) }); refresh(); });
start();
</script>`;
