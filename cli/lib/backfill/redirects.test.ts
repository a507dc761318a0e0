/**
 * A backfill source's list request carries the operator's provider key: a redirect is never followed (the key would
 * go wherever the Location points), and a variable filled into the URL cannot move it with a dot segment. Two real
 * local servers: A answers the list request with a redirect to B, and B records whatever reaches it. Then every
 * source of the catalog, read from catalog/*.yaml, against redirects and dot segments in its `{env.NAME}`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListError, Pager, sourceUrl } from './pager.ts';
import type { BackfillSource, SourceAuth } from '../../../runtime/manifest/sources.ts';
import { loadCatalog } from '../catalog.ts';
import { following } from '../../../test/support/redirects.ts';

const KEY = 'lk_live_2b9e4f7a1c6d0e83';
let a: Server;
let b: Server;
let aUrl = '';
let bUrl = '';
let redirect = { status: 307, location: '' };
const reachedB: { url: string; headers: Record<string, unknown> }[] = [];

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
beforeAll(async () => {
  a = createServer((req, res) => {
    if (req.url?.startsWith('/list')) res.writeHead(redirect.status, { location: redirect.location }).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[],"has_more":false}');
  });
  b = createServer((req, res) => {
    reachedB.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[{"id":"from_b"}],"has_more":false}');
  });
  aUrl = await listen(a);
  bUrl = await listen(b);
});
afterAll(() => {
  a.close();
  b.close();
});

const source = (url: string): BackfillSource => ({
  url,
  auth: { type: 'header', header: 'X-Api-Key', secret: 'LIST_KEY' },
  items: 'data',
  pagination: { type: 'cursor', param: 'starting_after', has_more: 'has_more' },
  rate_limit: { per_second: 1000 },
  event: { type: 't', id: '{object.id}', body: {} },
});

describe('a backfill source and redirects', () => {
  it.each([301, 302, 303, 307, 308])(
    'a %i to another origin is a ListError naming it, and nothing reaches that origin',
    async (status) => {
      redirect = { status, location: `${bUrl}/collect?token=abc` };
      reachedB.length = 0;
      const pager = new Pager(source(`${aUrl}/list`), { env: { LIST_KEY: KEY }, sleep: async () => undefined });
      const error = await pager.page(null).catch((e: unknown) => e);
      expect(reachedB).toEqual([]);
      expect(error).toBeInstanceOf(ListError);
      expect((error as ListError).status).toBe(status);
      expect((error as ListError).message).toContain(`answered ${status}, a redirect to ${bUrl}`);
      expect((error as ListError).message).not.toContain('token=abc');
    },
  );

  it('does not follow a redirect within the origin either (the source names its final URL)', async () => {
    redirect = { status: 302, location: '/other' };
    const pager = new Pager(source(`${aUrl}/list`), { env: { LIST_KEY: KEY }, sleep: async () => undefined });
    await expect(pager.page(null)).rejects.toThrow(/answered 302, a redirect to http:\/\/127\.0\.0\.1/);
  });
});

describe("a source URL's variables", () => {
  it.each([
    'https://p.supabase.co/..',
    'https://p.supabase.co/x/.',
    'https://p.supabase.co/%2e%2e',
    'https://p.supabase.co/%2E.%2f',
  ])('refuses %j, naming the variable', (value) => {
    expect(() => sourceUrl(source('{env.PROJECT_URL}/auth/v1/admin/users'), { PROJECT_URL: value })).toThrow(
      /PROJECT_URL holds a \. or \.\. path segment/,
    );
  });

  it('accepts a base URL', () => {
    expect(
      sourceUrl(source('{env.PROJECT_URL}/auth/v1/admin/users'), { PROJECT_URL: 'https://p.supabase.co/' }).href,
    ).toBe('https://p.supabase.co/auth/v1/admin/users');
  });
});

describe('every catalog source', () => {
  const sources = [...loadCatalog().entries.values()].flatMap((entry) =>
    Object.entries(entry.sources ?? {}).map(([kind, s]) => [`${entry.name}.${kind}`, s] as const),
  );
  /** Every secret and variable a source reads: a key, or a base URL for `{env.NAME}`. */
  const envFor = (s: BackfillSource, base: string) => {
    const names = [...s.url.matchAll(/\{env\.([A-Z0-9_]+)\}/g)].map((m) => m[1]!);
    const secrets = ([] as SourceAuth[])
      .concat(s.auth)
      .flatMap((a) => (a.type === 'basic' ? [a.username, ...(a.password ? [a.password] : [])] : [a.secret]));
    return { ...Object.fromEntries(secrets.map((n) => [n, KEY])), ...Object.fromEntries(names.map((n) => [n, base])) };
  };

  it('has sources to check', () => expect(sources.length).toBeGreaterThan(3));

  it.each(sources)('%s: a redirect anywhere is refused, and only the source origin is asked', async (_name, s) => {
    for (const [status, location] of [
      [307, 'https://evil.test/list'],
      [302, '//evil.test/list'],
      [308, '/elsewhere'],
      [301, 'javascript:alert(1)'],
    ] as const) {
      const asked: string[] = [];
      const fetcher = following(async (input) => {
        asked.push(String(input));
        return new Response(null, { status, headers: { location } });
      });
      const pager = new Pager(s, {
        env: envFor(s, 'https://project.example.test'),
        fetch: fetcher,
        sleep: async () => undefined,
      });
      await expect(pager.page(null)).rejects.toThrow(new RegExp(`answered ${status}, a redirect to`));
      expect(asked).toHaveLength(1);
      expect(new URL(asked[0]!).origin).toBe(sourceUrl(s, envFor(s, 'https://project.example.test')).origin);
    }
  });

  it.each(sources.filter(([, s]) => s.url.includes('{env.')))(
    '%s: a base URL holding a dot segment is refused before any request',
    (_name, s) => {
      for (const base of [
        'https://project.example.test/..',
        'https://project.example.test/%2e%2e',
        'https://project.example.test/x/%2E/',
      ]) {
        expect(
          () =>
            new Pager(s, {
              env: envFor(s, base),
              fetch: async () => Promise.reject(new Error('no request may be sent')),
            }),
        ).toThrow(/holds a \. or \.\. path segment/);
      }
    },
  );
});
