/**
 * The dashboard at /admin and its login form, as the Worker serves them. The pages are real files
 * (runtime/operations/dashboard/: HTML, CSS, browser JS); `switchyard build` inlines them into a generated module
 * (.switchyard/dashboard.ts) that the composition root hands to createRuntime. The offline engine is given none and
 * serves no dashboard. The page keeps no credential: its requests to /admin/api ride on the HttpOnly session cookie,
 * with the session's CSRF token (from a meta tag) on changes.
 */

/** The dashboard's pages as the build made them: whole documents with `{{csrf}}` / `{{message}}` left to fill. */
export interface DashboardPages {
  /** The dashboard document, its script and style inline; `{{csrf}}` is filled per session. */
  dashboard: string;
  /** The login form (no script); `{{message}}` is filled per answer. */
  login: string;
  /** CSP source expressions (`'sha256-…'`) for the dashboard's inline scripts: the only script the page may run. */
  scriptHashes: readonly string[];
  /** The favicon, an SVG (served at /favicon.ico). */
  favicon: string;
}

const escapeHtml = (v: string) =>
  v.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Fills `{{name}}` with an escaped value (a function replacement, so `$` in a value stays literal). */
const fill = (template: string, name: string, value: string) =>
  template.replace(`{{${name}}}`, () => escapeHtml(value));

/** The login form, with a message (an error) under it. */
export function loginHtml(pages: DashboardPages, message = ''): string {
  return fill(pages.login, 'message', message);
}

/** The dashboard for one session; `csrf` (hex) is echoed by the page on every change it makes. */
export function dashboardHtml(pages: DashboardPages, csrf: string): string {
  return fill(pages.dashboard, 'csrf', csrf);
}
