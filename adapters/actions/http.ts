import { PermanentError, readSecrets, type StepContext } from '../../runtime/component/context.ts';
import { OptionError } from '../../runtime/manifest/problems.ts';
import { sha256, toHex } from '../../runtime/lib/bytes.ts';
import { kvExpirationTtl } from '../../runtime/lib/kv.ts';
import {
  ActionError,
  OddAnswer,
  providerError,
  readAnswer,
  sendEach,
  type ActionIO,
} from '../../runtime/component/action.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field, type Options } from '../../runtime/component/spec.ts';
import { compilePath, MappingError, PATH_PATTERN, readPath } from '../../runtime/language/values.ts';
import { fetchWithinOrigin, MAX_REDIRECTS } from '../../runtime/lib/redirects.ts';
import { climbsPath } from '../../runtime/lib/url-paths.ts';
import { compileValueMap } from './message.ts';
import { formEncode } from './form-encode.ts';
import { compileFields, fieldSchema, type BodyField } from './http-fields.ts';
import { secretRedactor } from '../../runtime/lib/redact.ts';
import type { Value } from '../../runtime/manifest/types.gen.ts';

/** A declared success check on a 2xx JSON answer. */
const successSpec = {
  path: field
    .string({ pattern: PATH_PATTERN })
    .describe('A value path into the JSON answer, e.g. `status` or `result.ok`.'),
  equals: field
    .schema<string | number | boolean | null>({ type: ['string', 'number', 'boolean', 'null'] })
    .describe('The literal the value at `path` must equal (strictly: `1` is not `"1"`).'),
} as const;

interface HttpRequestItem {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** How `body` is encoded (default json): secret fields are added in the same encoding at send time. */
  encoding?: 'json' | 'form';
  /**
   * Body fields and query parameters whose values are secrets: only the secrets' NAMES are stored (in the effect
   * row, a dead letter); the values are read from the environment when the request is sent.
   */
  secrets?: { body?: [field: string, secret: string][]; query?: [param: string, secret: string][] };
}

/**
 * The origin a URL template sends to: scheme, host and port are literal, and a `{placeholder}` may only come after
 * the path, query or fragment has begun (`/`, `?`, `#`). Otherwise `https://api.example.com{x}` with `x` =
 * `.attacker.test` would send the request, credentials included, to another host.
 */
function literalOrigin(template: string): string {
  const brace = template.indexOf('{');
  const literal = brace === -1 ? template : template.slice(0, brace);
  const authority = /^(https?:\/\/[^/?#{}]+)(?:[/?#]|$)/.exec(literal);
  if (!authority || (brace !== -1 && authority[0] === authority[1])) {
    throw new OptionError(
      'url',
      'the host and port must be literal: start the URL with http(s)://host[:port] and put {placeholders} only after the /, ? or # that follows',
    );
  }
  try {
    return new URL(authority[1]!).origin;
  } catch {
    throw new OptionError('url', `${authority[1]} is not a valid origin`);
  }
}

/** The path a URL template fixes before its first placeholder: every URL built from it must stay under it. */
function literalPath(template: string): string {
  const brace = template.indexOf('{');
  return new URL(brace === -1 ? template : template.slice(0, brace)).pathname;
}

/** True when a built URL does not parse, points elsewhere than the template's origin, or left its literal path. */
function leaves(url: string, origin: string, path: string): boolean {
  const parsed = URL.parse(url);
  return parsed?.origin !== origin || !parsed.pathname.startsWith(path);
}

/**
 * `{path}` placeholders in a URL template, each value URL-encoded. A value in the path that is (or decodes to) a
 * `.` or `..` segment is refused, naming the placeholder, before anything is sent: the URL parser would collapse it
 * and the request, credentials included, would go to another endpoint. The origin and literal path are checked on
 * every URL built.
 */
function compileUrl(template: string, origin: string, path: string): (ctx: StepContext) => string {
  const parts: (string | { name: string; path: ReturnType<typeof compilePath>; inPath: boolean })[] = [];
  let last = 0;
  let inPath = true;
  for (const m of template.matchAll(/\{([^{}]+)\}/g)) {
    const literal = template.slice(last, m.index);
    if (/[?#]/.test(literal)) inPath = false;
    const name = m[1]!.trim();
    parts.push(literal, { name, path: compilePath(name), inPath });
    last = m.index! + m[0].length;
  }
  parts.push(template.slice(last));
  return (ctx) => {
    const url = parts
      .map((p) => {
        if (typeof p === 'string') return p;
        const value = String(readPath(p.path, ctx.values) ?? '');
        if (p.inPath && climbsPath(value)) {
          const why = `a dot segment (. or .., maybe percent-encoded) that would climb out of the URL path ${path}`;
          throw new MappingError(`${p.name} is ${JSON.stringify(value.slice(0, 40))}: ${why}`, `${p.name} is ${why}`);
        }
        return encodeURIComponent(value);
      })
      .join('');
    if (leaves(url, origin, path))
      throw new PermanentError(`the http action's URL left its origin ${origin} or its path ${path}`);
    return url;
  };
}

/**
 * A declared success check on a 2xx JSON answer, for APIs that answer a failure with 200 and an error in the body
 * (Mixpanel's `{"status": 0}`, Paddle Classic's `{"success": false}`): a mismatch is a provider failure, transient
 * like a 5xx, whose reason is the value at `error_path` (read from the already-redacted answer).
 */
function compileSuccessCheck(
  success: Options<typeof successSpec> | undefined,
  errorPath: string | undefined,
): ((status: number, text: string) => void) | undefined {
  if (errorPath !== undefined && !success)
    throw new OptionError('error_path', 'error_path needs a success check (success: { path, equals })');
  if (!success) return undefined;
  for (const [name, text] of [
    ['success', success.path],
    ['error_path', errorPath],
  ] as const) {
    if (text?.startsWith('@'))
      throw new OptionError(name, 'a response path reads the JSON answer, not the event envelope: drop the @');
  }
  const path = compilePath(success.path);
  const reasonPath = errorPath === undefined ? undefined : compilePath(errorPath);
  return (status, text) => {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const actual = readPath(path, { payload: body });
    if (actual === success.equals) return;
    const found = reasonPath ? readPath(reasonPath, { payload: body }) : undefined;
    const reason =
      found === undefined || found === null
        ? undefined
        : (typeof found === 'string' ? found : JSON.stringify(found)).slice(0, 200);
    const got = actual === undefined ? 'missing' : JSON.stringify(actual).slice(0, 100);
    throw new ActionError(
      `http answered ${status} but ${success.path} is ${got}, not ${JSON.stringify(success.equals)}${reason ? `: ${reason}` : ''}`,
      { transient: true, status, ...(reason ? { code: reason } : {}) },
    );
  };
}

/** A response may be cached only if it is a success and carries no credentials or private data. */
function cacheable(res: Response): boolean {
  const control = res.headers.get('cache-control') ?? '';
  return (
    res.ok && !res.headers.has('set-cookie') && !res.headers.has('authorization') && !/no-store|private/i.test(control)
  );
}

/**
 * A generic HTTP request (method, URL template, headers, JSON body), so a new API is reached from the manifest
 * alone. Credentials come from named secrets (`secret_headers`). A GET may declare `cache: { ttl }`: responses are
 * kept in KV under a key that includes the method, the URL and a hash of the credentials sent, never for a
 * response that sets cookies or says private/no-store.
 */
export const httpAction = defineComponent({
  kind: 'action',
  name: 'http',
  title: 'HttpAction',
  description:
    'A generic HTTP request with a URL template, headers, secret headers, query parameters and a JSON or form-encoded body (secrets allowed in body and query).',
  idempotencyOption: 'idempotency_header',
  spec: {
    method: field.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
    url: field
      .string({ minLength: 8 })
      .describe('URL template; `{path}` placeholders are filled from the event and URL-encoded.'),
    headers: field.record(field.ref<Value>('Value')).optional(),
    secret_headers: field
      .record(field.object({ secret: field.secret(), prefix: field.string().optional().describe('e.g. `Bearer `.') }))
      .optional(),
    body: field
      .record(field.schema<BodyField>(fieldSchema))
      .optional()
      .describe(
        'Body fields: values from the event, or `{ secret: NAME }`. A value that is an object or array is nested (JSON) or bracket-encoded (form).',
      ),
    // No schema default: a body_encoding written without a body is refused (json too), so an absent one must stay absent.
    body_encoding: field
      .enum(['json', 'form'])
      .optional()
      .describe(
        'json (the default), or form: application/x-www-form-urlencoded with nested bracket keys (`metadata[order_id]=1`), as Stripe reads it.',
      ),
    query: field
      .record(field.schema<BodyField>(fieldSchema))
      .optional()
      .describe('Query parameters added to the URL: values from the event, or `{ secret: NAME }`.'),
    cache: field.object({ ttl: field.duration() }).optional().describe('GET only: cache the response in KV.'),
    success: field
      .object(successSpec)
      .optional()
      .describe(
        "Applies only to a 2xx answer (any other status is already a failure): for APIs that answer a failure with 200 and an error in the body, e.g. Mixpanel `{ path: status, equals: 1 }`, Paddle Classic `{ path: success, equals: true }`. An answer that is not JSON or holds another value is a provider failure, retried per the step's retry policy and finally dead-lettered like a 5xx.",
      ),
    error_path: field
      .string({ pattern: PATH_PATTERN })
      .optional()
      .describe(
        "With `success`: a value path into a failing answer whose value becomes the failure reason (the dead letter's error, a synchronous command's `reason`), e.g. `error.code`.",
      ),
    follow_redirects: field
      .enum(['none', 'same_origin'])
      .default('none')
      .describe(
        `none: a 3xx answer is a provider failure (its status and the Location's origin recorded), never followed. same_origin: a redirect within the URL's origin is followed (at most ${MAX_REDIRECTS} hops, each checked; a 303 continues as a GET without a body, a 307/308 keeps the method and body); one to another origin is still a failure.`,
      ),
    idempotency_header: field
      .string({ pattern: '^[A-Za-z0-9-]+$' })
      .optional()
      .describe(
        "A header that carries the effect's idempotency key (stable across retries), for APIs that deduplicate on one, e.g. `Idempotency-Key`.",
      ),
  },
  example: {
    action: 'http',
    method: 'POST',
    url: 'https://hooks.slack.com/services/{data.channel}',
    body: { text: { template: 'Payment failed for {data.object.customer}' } },
    secret_headers: { Authorization: { secret: 'SLACK_TOKEN', prefix: 'Bearer ' } },
  },
  create(options) {
    const method = options.method;
    if (options.cache && method !== 'GET') throw new Error('cache applies to GET requests only');
    if (options.body && method === 'GET') throw new Error('a GET has no body');
    const origin = literalOrigin(options.url);
    const path = literalPath(options.url);
    const url = compileUrl(options.url, origin, path);
    const headers = compileValueMap(options.headers);
    if (options.body_encoding && !options.body) throw new OptionError('body_encoding', 'body_encoding needs a body');
    const encoding = options.body_encoding ?? 'json';
    const body = options.body ? compileFields(options.body) : undefined;
    const query = compileFields(options.query);
    const check = compileSuccessCheck(options.success, options.error_path);
    const ttlSeconds = options.cache ? Math.round(options.cache.ttl / 1000) : 0;
    const send = async (item: HttpRequestItem, key: string, io: ActionIO) => {
      // Checked again at send time, on the URL actually sent (a stored effect, a replay), before any credential is attached.
      if (leaves(item.url, origin, path))
        throw new ActionError(`the http action's URL left its origin ${origin} or its path ${path}`, {
          transient: false,
        });
      const used: string[] = [];
      const secret = (name: string) => {
        const value = readSecrets(io.env, name)[0]!;
        used.push(value);
        return value;
      };
      const secretHeaders: Record<string, string> = {};
      for (const [name, s] of Object.entries(options.secret_headers ?? {}))
        secretHeaders[name] = `${s.prefix ?? ''}${secret(s.secret)}`;
      const idempotency = options.idempotency_header ? { [options.idempotency_header]: key } : {};
      let url = item.url;
      if (item.secrets?.query?.length) {
        const withSecrets = new URL(url);
        for (const [param, name] of item.secrets.query) withSecrets.searchParams.append(param, secret(name));
        url = withSecrets.toString();
      }
      let sentBody = item.body;
      if (item.secrets?.body?.length) {
        const fields = Object.fromEntries(item.secrets.body.map(([field, name]) => [field, secret(name)]));
        sentBody =
          item.encoding === 'form'
            ? [item.body, formEncode(fields)].filter(Boolean).join('&')
            : JSON.stringify({ ...(item.body ? JSON.parse(item.body) : {}), ...fields });
      }
      const redact = secretRedactor(used);
      const init = {
        method: item.method,
        headers: { ...item.headers, ...idempotency, ...secretHeaders },
        ...(sentBody !== undefined ? { body: sentBody } : {}),
      };
      const cacheKey =
        ttlSeconds && io.kv
          ? `http-cache:${toHex(await sha256(`${item.method} ${url}\n${JSON.stringify(Object.entries(init.headers).sort())}`))}`
          : undefined;
      if (cacheKey) {
        const hit = await io.kv!.get<{ status: number; body: string; expires: number }>(cacheKey, 'json');
        if (hit && hit.expires > io.now) return { status: hit.status, body: hit.body, cached: true };
      }
      // io.fetch refuses every redirect; same_origin follows those within the URL's origin, checked on each hop.
      const res =
        options.follow_redirects === 'same_origin'
          ? await fetchWithinOrigin(io.fetch, url, init)
          : await io.fetch(url, init);
      if (!res.ok) throw await providerError('http', res, io.now, redact);
      // A 2xx whose body breaks off was still performed: kept as sent with a note, not retried (and not cached).
      const answer = await readAnswer(res);
      const text = redact(answer.text);
      check?.(res.status, text);
      if (answer.broken !== undefined)
        return new OddAnswer(
          { status: res.status, body: text, cached: false },
          `http answered ${res.status} but its body broke off (${redact(answer.broken).slice(0, 100)})`,
        );
      if (cacheKey && cacheable(res)) {
        await io.kv!.put(
          cacheKey,
          JSON.stringify({ status: res.status, body: text, expires: io.now + ttlSeconds * 1000 }),
          { expirationTtl: kvExpirationTtl(ttlSeconds) },
        );
        io.count?.('kv_writes');
      }
      return { status: res.status, body: text, cached: false };
    };
    return {
      type: 'http',
      maxBatch: 1,
      prepare(ctx): HttpRequestItem {
        const fields = body?.values(ctx);
        const params = Object.entries(query.values(ctx));
        let target = url(ctx);
        if (params.length) {
          const withQuery = new URL(target);
          for (const [k, v] of params) withQuery.searchParams.append(k, typeof v === 'string' ? v : JSON.stringify(v));
          target = withQuery.toString();
        }
        const secrets = {
          ...(body?.secrets.length ? { body: body.secrets } : {}),
          ...(query.secrets.length ? { query: query.secrets } : {}),
        };
        return {
          method,
          url: target,
          headers: {
            ...Object.fromEntries(Object.entries(headers(ctx)).map(([k, v]) => [k, String(v)])),
            ...(fields
              ? { 'content-type': encoding === 'form' ? 'application/x-www-form-urlencoded' : 'application/json' }
              : {}),
          },
          ...(fields ? { body: encoding === 'form' ? formEncode(fields) : JSON.stringify(fields), encoding } : {}),
          ...(Object.keys(secrets).length ? { secrets } : {}),
        };
      },
      response(result) {
        const text = (result as { body?: unknown } | null)?.body;
        if (typeof text !== 'string') return result;
        try {
          return JSON.parse(text);
        } catch {
          return text;
        }
      },
      send: (items, io) => sendEach(items, (item) => send(item.payload as HttpRequestItem, item.key, io)),
      describe(payload) {
        const item = payload as HttpRequestItem;
        // Secret parameters, headers and fields are named, as the request would carry them, never valued.
        const query = (item.secrets?.query ?? []).map(([param, name]) => `${param}=[secret ${name}]`).join('&');
        const url = query ? `${item.url}${item.url.includes('?') ? '&' : '?'}${query}` : item.url;
        const lines: Record<string, string> = { method: item.method, url };
        for (const [name, value] of Object.entries(item.headers ?? {})) lines[`header ${name}`] = value;
        for (const [name, s] of Object.entries(options.secret_headers ?? {}))
          lines[`header ${name}`] = `${s.prefix ?? ''}[secret ${s.secret}]`;
        const secretFields = (item.secrets?.body ?? []).map(([field, name]) => `${field}=[secret ${name}]`);
        if (item.body !== undefined || secretFields.length)
          lines.body = [item.body ?? '', ...secretFields].filter(Boolean).join(' + ');
        return lines;
      },
    };
  },
});
