// @ts-check
// The Charts section: events per hour by status, effect failures per provider, today's use of the plan. The Worker
// draws them (runtime/operations/charts-svg.ts, every text escaped); the page parses each as SVG, never as HTML, and
// puts it in. Hourly charts change slowly and each read costs D1 rows: loaded with the page, on Refresh, and every
// 5 minutes while the page is visible.

/** GET /charts (runtime/operations/charts.ts). @typedef {Awaited<ReturnType<typeof import('../charts.ts').chartsAt>>} Charts */

/** @type {readonly (keyof Charts['svg'])[]} */
const CHARTS = ['events', 'effects', 'usage'];
async function loadCharts() {
  try {
    /** @type {Charts} */
    const charts = await api('/charts');
    for (const name of CHARTS) {
      const svg = new DOMParser().parseFromString(charts.svg[name], 'image/svg+xml').documentElement;
      const drawn = svg.namespaceURI === 'http://www.w3.org/2000/svg' && svg.localName === 'svg';
      $(`chart-${name}`).replaceChildren(
        drawn ? document.importNode(svg, true) : document.createTextNode('this chart could not be drawn'),
      );
    }
    $('charts-sampled').hidden = !charts.events.sampled;
  } catch (e) {
    if (failed(e)) $('charts-note').textContent = 'charts could not be loaded';
  }
}
loadCharts();
$('refresh').addEventListener('click', loadCharts);
setInterval(() => {
  if (document.visibilityState === 'visible') loadCharts();
}, 300000);
