/**
 * Pages through a provider's list API as its source declares: authenticated with the operator's own credentials
 * (they never leave this machine), under the declared requests per second, waiting out 429s for as long as
 * `Retry-After` says, and retrying 5xx and network failures with backoff before giving up (the checkpoint then holds
 * the last page that was fully written, so the next run resumes there).
 */
import type { BackfillSource, SourceAuth } from '../../../runtime/manifest/sources.ts';
import { compilePath, readPath } from '../../../runtime/language/values.ts';
import { climbsPath } from '../../../runtime/lib/url-paths.ts';

/** Where the next page starts; null before the first page. */
export interface Cursor {
  after?: string;
  offset?: number;
  page?: number;
  url?: string;
}

export interface Page {
  items: unknown[];
  /** When the provider served it (its Date header, else this clock), less one second: see docs/backfill.md. */
  fetchedAt: number;
  /** Where the page after this one starts, or null when this was the last. */
  next: Cursor | null;
  /** The object count, when the source declares where it is and this is the first page. */
  total?: number;
}

/** A list request that failed for good (a refused credential, a 4xx, or 5xx after every retry). */
export class ListError extends Error {
  override name = 'ListError';
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

export interface PagerOptions {
  /** Secrets and variables: the operator's environment (then .dev.vars). */
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Called when the pager waits for the provider (a 429's Retry-After, a backoff). */
  onWait?: (ms: number, why: string) => void;
  since?: Date;
  /** Retries of a 5xx or network failure before giving up (429s are waited out up to MAX_429 times). */
  retries?: number;
}

const MAX_429 = 20;
const MAX_BACKOFF_MS = 60_000;
const read = (body: unknown, path: string) => readPath(compilePath(path), { payload: body });

/** The source's URL with `{env.NAME}` filled in; a missing variable is an error that names it. */
export function sourceUrl(source: BackfillSource, env: Record<string, string | undefined>): URL {
  const text = source.url.replace(/\{env\.([A-Z][A-Z0-9_]*)\}/g, (_, name: string) => {
    const v = env[name];
    if (!v) throw new ListError(`set ${name} (the source's URL reads it)`);
    // A dot segment would move the list request, credential included, to another endpoint of the API.
    if (climbsPath(v)) throw new ListError(`${name} holds a . or .. path segment; set it to the project's base URL`);
    return v.replace(/\/+$/, '');
  });
  return new URL(text);
}

function authHeaders(source: BackfillSource, env: Record<string, string | undefined>): Record<string, string> {
  const secret = (name: string) => {
    const v = env[name];
    if (!v)
      throw new ListError(
        `set ${name} in the environment (the provider credential this source lists with; it stays on this machine)`,
      );
    return v;
  };
  const headers: Record<string, string> = {};
  for (const a of ([] as SourceAuth[]).concat(source.auth)) {
    if (a.type === 'bearer') headers.authorization = `Bearer ${secret(a.secret)}`;
    else if (a.type === 'basic')
      headers.authorization = `Basic ${Buffer.from(`${secret(a.username)}:${a.password ? secret(a.password) : ''}`).toString('base64')}`;
    else headers[a.header.toLowerCase()] = secret(a.secret);
  }
  return headers;
}

function sinceValue(since: Date, format: NonNullable<BackfillSource['since']>['format']): string {
  return format === 'unix_seconds'
    ? String(Math.floor(since.getTime() / 1000))
    : format === 'unix_ms'
      ? String(since.getTime())
      : since.toISOString();
}

/** A client for one source's list endpoint. */
export class Pager {
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly interval: number;
  private nextAt = 0;
  private readonly base: URL;
  private readonly headers: Record<string, string>;
  /** Requests sent, 429s waited out, and retries after a failure (for the summary). */
  readonly stats = { requests: 0, throttled: 0, retried: 0 };

  readonly source: BackfillSource;
  private readonly options: PagerOptions;

  constructor(source: BackfillSource, options: PagerOptions) {
    this.source = source;
    this.options = options;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.now = options.now ?? Date.now;
    this.interval = 1000 / (source.rate_limit?.per_second ?? 5);
    this.base = sourceUrl(source, options.env);
    this.headers = { accept: 'application/json', ...(source.headers ?? {}), ...authHeaders(source, options.env) };
    if (options.since && !source.since)
      throw new ListError('this source declares no `since:` filter, so --since cannot narrow it');
  }

  /** One GET, paced, with 429s waited out and failures retried. */
  private async get(url: URL): Promise<{ body: unknown; headers: Headers; fetchedAt: number }> {
    let throttled = 0;
    let failures = 0;
    for (;;) {
      const wait = this.nextAt - this.now();
      if (wait > 0) await this.sleep(wait);
      this.nextAt = Math.max(this.now(), this.nextAt) + this.interval;
      this.stats.requests++;
      let res: Response;
      try {
        // Never followed: a redirect would carry the credential to wherever its Location points.
        res = await this.fetch(url, { headers: this.headers, redirect: 'manual' });
      } catch (error) {
        if (++failures > (this.options.retries ?? 5))
          throw new ListError(`${url.origin}${url.pathname}: ${(error as Error).message}`);
        this.stats.retried++;
        await this.backoff(failures, `${(error as Error).message}`);
        continue;
      }
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel();
        const target = URL.parse(res.headers.get('location') ?? '', url);
        throw new ListError(
          `${url.origin}${url.pathname} answered ${res.status}, a redirect to ${target ? target.origin : 'an unreadable Location'}: not followed, so the source's credential goes nowhere else (point the source at the final URL)`,
          res.status,
        );
      }
      if (res.status === 429) {
        await res.body?.cancel();
        if (++throttled > MAX_429) throw new ListError(`${url.origin}${url.pathname} kept answering 429`, 429);
        this.stats.throttled++;
        const after = retryAfterMs(res.headers.get('retry-after'), this.now());
        const ms = after ?? Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (throttled - 1));
        this.options.onWait?.(ms, `429 from the provider${after !== undefined ? ' (Retry-After)' : ''}`);
        await this.sleep(ms);
        continue;
      }
      if (res.status >= 500) {
        await res.body?.cancel();
        if (++failures > (this.options.retries ?? 5))
          throw new ListError(`${url.origin}${url.pathname} answered ${res.status} ${failures} times`, res.status);
        this.stats.retried++;
        await this.backoff(failures, `${res.status} from the provider`);
        continue;
      }
      if (!res.ok) {
        const text = (await res.text().catch(() => '')).slice(0, 300);
        throw new ListError(
          `${url.origin}${url.pathname} answered ${res.status}${res.status === 401 || res.status === 403 ? ' (check the API key the source names)' : ''}: ${text}`,
          res.status,
        );
      }
      const date = Date.parse(res.headers.get('date') ?? '');
      return {
        body: await res.json(),
        headers: res.headers,
        fetchedAt: (Number.isNaN(date) ? this.now() : date) - 1000,
      };
    }
  }

  private async backoff(attempt: number, why: string) {
    const ms = Math.min(MAX_BACKOFF_MS, 500 * 2 ** (attempt - 1));
    this.options.onWait?.(ms, why);
    await this.sleep(ms);
  }

  /** The URL of the page at `cursor`. */
  private urlFor(cursor: Cursor | null): URL {
    const p = this.source.pagination;
    if (p.type === 'next_url' && cursor?.url) {
      const next = new URL(cursor.url, this.base);
      // The credential goes only where the source points: a next link elsewhere is refused.
      if (next.origin !== this.base.origin)
        throw new ListError(`the next page link points at ${next.origin}, not ${this.base.origin}`);
      return next;
    }
    const url = new URL(this.base);
    for (const [k, v] of Object.entries(this.source.query ?? {})) url.searchParams.set(k, String(v));
    if (this.options.since && this.source.since)
      url.searchParams.set(this.source.since.param, sinceValue(this.options.since, this.source.since.format));
    if (p.type === 'cursor' && cursor?.after) url.searchParams.set(p.param, cursor.after);
    if (p.type === 'offset') {
      url.searchParams.set(p.limit_param, String(p.limit));
      url.searchParams.set(p.offset_param, String(cursor?.offset ?? 0));
    }
    if (p.type === 'page') {
      url.searchParams.set(p.size_param, String(p.size));
      url.searchParams.set(p.page_param, String(cursor?.page ?? p.first ?? 1));
    }
    return url;
  }

  /** One page at `cursor` (null: the first). */
  async page(cursor: Cursor | null): Promise<Page> {
    const { body, headers, fetchedAt } = await this.get(this.urlFor(cursor));
    const items = this.source.items ? read(body, this.source.items) : body;
    if (!Array.isArray(items))
      throw new ListError(`the response has no list at ${this.source.items ?? 'its top level'}`);
    const p = this.source.pagination;
    let next: Cursor | null = null;
    if (p.type === 'cursor') {
      const last = items[items.length - 1];
      const after = last === undefined ? undefined : read(last, p.from ?? 'id');
      if (read(body, p.has_more) === true && typeof after === 'string') next = { after };
    } else if (p.type === 'offset') {
      if (items.length >= p.limit) next = { offset: (cursor?.offset ?? 0) + items.length };
    } else if (p.type === 'page') {
      if (items.length >= p.size) next = { page: (cursor?.page ?? p.first ?? 1) + 1 };
    } else {
      const url = read(body, p.next);
      const more = p.has_more ? read(body, p.has_more) === true : true;
      if (more && typeof url === 'string' && url && items.length) next = { url };
    }
    let total: number | undefined;
    if (!cursor && this.source.total) {
      const t = this.source.total;
      const value = t.header ? headers.get(t.header) : t.path && !t.url ? read(body, t.path) : undefined;
      if (value !== undefined && value !== null && Number.isFinite(Number(value))) total = Number(value);
    }
    return { items, fetchedAt, next, ...(total !== undefined ? { total } : {}) };
  }

  /** The object count from a declared count endpoint (`total.url`), if the source has one. */
  async countEndpoint(): Promise<number | undefined> {
    const t = this.source.total;
    if (!t?.url) return undefined;
    const url = new URL(t.url, this.base);
    if (url.origin !== this.base.origin)
      throw new ListError(`the count endpoint ${url.origin} is not the source's origin`);
    const { body } = await this.get(url);
    const value = t.path ? read(body, t.path) : body;
    return Number.isFinite(Number(value)) ? Number(value) : undefined;
  }
}

/** Retry-After as ms to wait: delta-seconds or an HTTP date. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
