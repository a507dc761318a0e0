/**
 * How `send`, `replay` and `rebuild` reach a running switchyard: which URL (the flag, else `SWITCHYARD_URL`, else
 * the URL `npm run dev` recorded in `.switchyard/dev-url`, else wrangler's default port), the admin token, and
 * errors that say what to do instead of a stack trace.
 */
import { join } from 'node:path';
import { readDevVars } from './dev-vars.ts';
import { readDevUrl } from './dev-url.ts';
import type { Project } from './project.ts';

/** Where `switchyard dev` serves when nothing else is known (wrangler dev's default port). */
export const DEFAULT_DEV_URL = 'http://localhost:8787';

/** A failure the user can act on: printed as one line, without a stack, exit 1. */
export class ServerError extends Error {
  override name = 'ServerError';
}

/**
 * The base URL to talk to, without a trailing slash.
 * @example serverUrl(project, values.url) // 'http://localhost:8801' when `npm run dev -- --port 8801` is running
 */
export function serverUrl(project: Project, flag?: string): string {
  return (flag || process.env.SWITCHYARD_URL || readDevUrl(project) || DEFAULT_DEV_URL).replace(/\/+$/, '');
}

/** ADMIN_TOKEN from the environment, else the project's .dev.vars. */
export function adminToken(project: Project): string | undefined {
  return process.env.ADMIN_TOKEN || readDevVars(join(project.root, '.dev.vars')).ADMIN_TOKEN;
}

/**
 * The running switchyard a command talks to and the admin token to talk with; undefined (after saying why) when no
 * token is set, for the command to exit 2.
 */
export function adminTarget(project: Project, flag?: string): { url: string; token: string } | undefined {
  const token = adminToken(project);
  if (token) return { url: serverUrl(project, flag), token };
  console.error('no admin token: set ADMIN_TOKEN in the environment or in .dev.vars');
  return undefined;
}

/** `fetch`, with a refused connection turned into a hint at `npm run dev` or `--url`. */
export async function reach(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new ServerError(
      `cannot reach switchyard at ${new URL(url).origin} (${why}): start it with \`npm run dev\`, or pass --url (or set SWITCHYARD_URL)`,
    );
  }
}

/** A call to the runtime's admin API: parsed JSON, or a ServerError that says why (a refused token reads as one). */
export async function adminCall<T = Record<string, unknown>>(
  base: string,
  token: string,
  path: string,
  init: RequestInit = {},
): Promise<T> {
  const res = await reach(`${base}/admin/api${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (res.status === 401 || res.status === 403) {
    throw new ServerError(
      body.reason === 'missing_token'
        ? `${base} received no admin token: set ADMIN_TOKEN in the environment or in .dev.vars`
        : `the admin token was refused by ${base}: check that ADMIN_TOKEN matches the one the server has`,
    );
  }
  if (!res.ok)
    throw new ServerError(`${base} answered ${res.status}: ${String(body.message ?? body.error ?? res.statusText)}`);
  return body as T;
}
