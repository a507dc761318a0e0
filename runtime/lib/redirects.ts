/**
 * Outbound requests never follow a redirect by themselves. The platform's fetch would take a request, with its
 * credentials (secret headers, a secret body field on a 307/308), to whatever origin a `Location` names, which
 * defeats the literal-host rule of every URL the manifest declares. Every fetch the runtime hands to adapters
 * (actions, JWKS, profiles, endpoints) asks for `redirect: 'manual'`, and a 3xx becomes `RedirectRefused`: a
 * provider failure with the status and the Location's origin (never its path or query, which may carry a token).
 * An http action that allows it (`follow_redirects: same_origin`) follows redirects within its origin only,
 * checked on every hop, for at most MAX_REDIRECTS hops.
 */

/** The statuses the platform's fetch follows. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** The most hops a same-origin redirect chain may take. */
export const MAX_REDIRECTS = 5;

/** A redirect that was not followed: the status, and the origin its Location pointed at. */
export class RedirectRefused extends Error {
  override name = 'RedirectRefused';
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/** Whether an answer is a redirect (under 'manual', workerd and Node return the 3xx answer itself). */
export const isRedirect = (res: Response) => REDIRECTS.has(res.status);

/** The Location resolved against the URL asked, when it is an http(s) URL at all. */
function locationOf(res: Response, from: URL): URL | undefined {
  const location = res.headers.get('location');
  const target = location === null ? null : URL.parse(location, from);
  return target && (target.protocol === 'https:' || target.protocol === 'http:') ? target : undefined;
}

async function refusal(res: Response, from: URL, target: URL | undefined, why: string): Promise<RedirectRefused> {
  await res.body?.cancel().catch(() => undefined);
  const to = target ? `a redirect to ${target.origin}` : 'a redirect without a usable Location';
  return new RedirectRefused(`${from.host} answered ${res.status}, ${to}; ${why}`, res.status);
}

const urlOf = (input: RequestInfo | URL) => new URL(input instanceof Request ? input.url : String(input));
const guarded = new WeakSet<typeof fetch>();

/**
 * The fetch with redirects refused: every request goes out with `redirect: 'manual'`, and a 3xx answer throws
 * RedirectRefused. A caller that asks for 'manual' itself gets the 3xx answer to handle (the proxy, and
 * `fetchWithinOrigin`). Wrapping twice is wrapping once.
 * @example const io = { fetch: refusingRedirects(fetch) }
 */
export function refusingRedirects(fetcher: typeof fetch): typeof fetch {
  if (guarded.has(fetcher)) return fetcher;
  const wrapped: typeof fetch = async (input, init) => {
    const manual = (init?.redirect ?? (input instanceof Request ? input.redirect : undefined)) === 'manual';
    const res = await fetcher(input, { ...init, redirect: 'manual' });
    if (manual || !isRedirect(res)) return res;
    const from = urlOf(input);
    throw await refusal(
      res,
      from,
      locationOf(res, from),
      'redirects are not followed, so the request and its credentials go nowhere else',
    );
  };
  guarded.add(wrapped);
  return wrapped;
}

/**
 * Fetches `url`, following redirects only within its own origin and at most MAX_REDIRECTS times: each hop's
 * Location is checked before anything is sent there. A 303 (and a 301 or 302 answering a POST) continues as a GET
 * without a body, as the platform's fetch would; a 307 or 308 keeps the method and body.
 */
export async function fetchWithinOrigin(
  fetcher: typeof fetch,
  url: string,
  init: RequestInit,
  maxHops = MAX_REDIRECTS,
): Promise<Response> {
  let at = new URL(url);
  const origin = at.origin;
  let request: RequestInit = { ...init, redirect: 'manual' };
  for (let hop = 0; ; hop++) {
    const res = await fetcher(at.href, request);
    if (!isRedirect(res)) return res;
    const target = locationOf(res, at);
    if (!target || target.origin !== origin)
      throw await refusal(res, at, target, `only redirects within ${origin} are followed`);
    if (hop >= maxHops) throw await refusal(res, at, target, `more than ${maxHops} redirects`);
    await res.body?.cancel().catch(() => undefined);
    const method = (request.method ?? 'GET').toUpperCase();
    if (
      (res.status === 303 && method !== 'HEAD') ||
      ((res.status === 301 || res.status === 302) && method === 'POST')
    ) {
      const headers = new Headers(request.headers);
      for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'])
        headers.delete(name);
      const { body: _body, ...rest } = request;
      request = { ...rest, method: 'GET', headers };
    }
    at = target;
  }
}
