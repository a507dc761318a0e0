/**
 * The dashboard's pages as `switchyard build` ships them (cli/lib/dashboard-module.ts): the real files inlined into
 * one document, the CSP hash matching the script the browser will hash, the vocabulary from the store.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dashboardModule, inlinePage, PAGE_VOCABULARY, scriptHash } from './dashboard-module.ts';
import { EventStatus } from '../../runtime/store/status.ts';
import { createApp } from '../../runtime/app.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { DashboardPages } from '../../runtime/operations/dashboard.ts';
import { defaultRegistry } from '../../worker/registry.ts';
import { defaultManifest } from '../../bench/fixtures.ts';

const files = (map: Record<string, string>) => (file: string) => {
  if (!(file in map)) throw new Error(`no ${file}`);
  return map[file]!;
};

describe('the dashboard module', () => {
  it('inlines the linked stylesheet and script (without its comments and layout), drops source comments, and fills the vocabulary', () => {
    const script = '// @ts-check\n/** Runs. @param {number} n */\nfunction run(n) {\n  return n + 1;\n}\nrun(1);\n';
    const page = inlinePage(
      '<!-- how it is made -->\n<head><link rel="stylesheet" href="a.css"><script type="application/json" id="v">{{vocabulary}}</script></head><script src="a.js"></script>',
      files({ 'a.css': 'b { x: 1 }\n', 'a.js': script }),
    );
    expect(page.html).toBe(
      `<head><style>\nb { x: 1 }\n</style><script type="application/json" id="v">${JSON.stringify(PAGE_VOCABULARY)}</script></head><script>\nfunction run(n){return n+1}run(1);\n</script>`,
    );
    expect(page.scripts).toEqual(['\nfunction run(n){return n+1}run(1);\n']);
    expect(JSON.parse(JSON.stringify(PAGE_VOCABULARY)).event.dead_lettered).toBe(EventStatus.dead_lettered);
  });

  it('hashes exactly the text between <script> and </script>, as the browser does for the CSP', () => {
    const { html, scripts } = inlinePage('<script src="a.js"></script>', files({ 'a.js': 'go();\n' }));
    const inline = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
    expect(scriptHash(scripts[0]!)).toBe(`'sha256-${createHash('sha256').update(inline).digest('base64')}'`);
  });

  it('refuses a script that would close its own element', () => {
    expect(() => inlinePage('<script src="a.js"></script>', files({ 'a.js': "x = '</script>';" }))).toThrow(
      /a\.js contains "<\/script"/,
    );
  });

  it('builds the real pages: the dashboard with its three allowed scripts (markup, the page, its charts), the login with none, placeholders left for the Worker', async () => {
    const source = dashboardModule();
    const { dashboard } = (await import(`data:text/javascript,${encodeURIComponent(source)}`)) as {
      dashboard: { dashboard: string; login: string; scriptHashes: string[]; favicon: string };
    };
    expect(dashboard.scriptHashes).toHaveLength(3);
    expect(dashboard.dashboard).toContain('content="{{csrf}}"');
    expect(dashboard.dashboard).not.toContain('<link rel="stylesheet"');
    expect(dashboard.dashboard).not.toContain('{{vocabulary}}');
    expect(dashboard.login).toContain('{{message}}');
    expect(dashboard.login).not.toContain('<script');
    expect(dashboard.favicon).toMatch(/^<svg /);
  });

  it('is served only by a runtime given it: the offline engine has no /admin, the Worker a hash-locked page', async () => {
    const { dashboard } = (await import(`data:text/javascript,${encodeURIComponent(dashboardModule())}`)) as {
      dashboard: DashboardPages;
    };
    const compiled = compileManifest(defaultManifest(), defaultRegistry, { lazy: true });
    const bare = createApp({ compiled, environment: 'test', hash: 'test' });
    expect((await bare.request('/admin/login')).status).toBe(404);
    expect((await bare.request('/favicon.ico')).status).toBe(404);
    const app = createApp({ compiled, environment: 'test', hash: 'test', dashboard });
    const login = await app.request('/admin/login');
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('<form method="post" action="/admin/login"');
    expect((await app.request('/favicon.ico')).headers.get('content-type')).toBe('image/svg+xml');
  });
});
