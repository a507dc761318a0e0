/**
 * The platform's fetch follows redirects unless asked not to (`redirect: 'manual'`); the fake providers only answer.
 * `following` puts the platform's behaviour around a fake, so a caller that does not ask for 'manual' is taken to the
 * Location, with its headers and (307/308) its method and body, as workerd's fetch would take it. Authorization is
 * dropped on a cross-origin hop, as the Fetch standard says; every other header, an API key included, goes along.
 */
export const REDIRECT_CODES = [301, 302, 303, 307, 308] as const;

export function following(fetcher: typeof fetch, maxHops = 20): typeof fetch {
  return async (input, init = {}) => {
    let url = input instanceof Request ? input.url : String(input);
    let req: RequestInit = { ...init };
    for (let hop = 0; ; hop++) {
      const res = await fetcher(url, req);
      if (req.redirect === 'manual' || !(REDIRECT_CODES as readonly number[]).includes(res.status)) return res;
      if (req.redirect === 'error' || hop >= maxHops) throw new TypeError('fetch failed: redirect');
      const location = res.headers.get('location');
      if (location === null) return res;
      const next = new URL(location, url);
      if (next.protocol !== 'https:' && next.protocol !== 'http:')
        throw new TypeError(`fetch failed: cannot follow ${next.protocol}`);
      const headers = new Headers(req.headers);
      if (next.origin !== new URL(url).origin) headers.delete('authorization');
      const method = (req.method ?? 'GET').toUpperCase();
      if (
        (res.status === 303 && method !== 'HEAD') ||
        ((res.status === 301 || res.status === 302) && method === 'POST')
      ) {
        headers.delete('content-type');
        req = { ...req, method: 'GET', headers, body: null };
      } else req = { ...req, headers };
      url = next.href;
    }
  };
}

/** A 3xx answer pointing at `location`. */
export const redirectTo = (status: number, location: string) => new Response(null, { status, headers: { location } });
