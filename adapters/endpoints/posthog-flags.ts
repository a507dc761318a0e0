import { readSecrets } from '../../runtime/component/context.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { errorResponse } from '../../runtime/lib/http.ts';
import { kvExpirationTtl } from '../../runtime/lib/kv.ts';
import { baseUrl, trimSlash } from '../actions/message.ts';

interface Cached {
  flags: Record<string, unknown>;
  stored_at: number;
}

/**
 * `GET /v1/flags`: PostHog feature flags for the authenticated user, cached in KV for `ttl`. When PostHog cannot be
 * reached, a cached answer up to `stale_for` old is served with `X-Switchyard-Cache: stale`; without one, 503.
 */
export const posthogFlagsEndpoint = defineComponent({
  kind: 'endpoint',
  name: 'posthog-flags',
  title: 'PosthogFlagsEndpoint',
  description: "The user's PostHog feature flags, cached in KV, served stale when PostHog is down.",
  auth: 'required',
  spec: {
    api_key: field.secret().describe('Env var with the PostHog project API key.'),
    base_url: baseUrl('https://us.i.posthog.com', 'PostHog host.'),
    ttl: field.duration().default('5m').describe('How long flags are served from the cache.'),
    stale_for: field
      .duration()
      .default('1d')
      .describe('How long past ttl a cached answer may stand in when PostHog is down.'),
  },
  example: { type: 'posthog-flags', api_key: 'POSTHOG_API_KEY', ttl: '5m' },
  create(options) {
    const base = trimSlash(options.base_url);
    const { ttl, stale_for: staleFor } = options;
    return async (ctx) => {
      const kv = ctx.env.KV as KVNamespace | undefined;
      if (!kv)
        return errorResponse(500, {
          error: 'misconfigured',
          message: 'the flags endpoint needs a KV binding named KV',
        });
      const key = `flags:${ctx.route}:${ctx.user!.sub}`;
      const cached = await kv.get<Cached>(key, 'json');
      if (cached && ctx.now - cached.stored_at < ttl)
        return Response.json({ flags: cached.flags }, { headers: { 'x-switchyard-cache': 'hit' } });
      try {
        const [apiKey] = readSecrets(ctx.env, options.api_key);
        const res = await ctx.fetch(`${base}/decide/?v=3`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ api_key: apiKey, distinct_id: ctx.user!.sub }),
        });
        if (!res.ok) throw new Error(`posthog answered ${res.status}`);
        const flags = ((await res.json()) as { featureFlags?: Record<string, unknown> }).featureFlags ?? {};
        await kv.put(key, JSON.stringify({ flags, stored_at: ctx.now } satisfies Cached), {
          expirationTtl: kvExpirationTtl((ttl + staleFor) / 1000),
        });
        return Response.json({ flags }, { headers: { 'x-switchyard-cache': 'miss' } });
      } catch (error) {
        ctx.emit({
          kind: 'runtime.error',
          where: `routes.${ctx.route}.posthog`,
          error: error instanceof Error ? error.message : String(error),
        });
        if (cached && ctx.now - cached.stored_at < ttl + staleFor)
          return Response.json({ flags: cached.flags, stale: true }, { headers: { 'x-switchyard-cache': 'stale' } });
        return errorResponse(
          503,
          { error: 'unavailable', message: 'feature flags are unavailable right now' },
          { 'retry-after': '30' },
        );
      }
    };
  },
});
