import { readSecrets, secretRefSchema } from '../../runtime/component/context.ts';
import { providerError, sendTogether, stableId, type ActionAdapter } from '../../runtime/component/action.ts';
import { analyticsOptions, asUuid, compileAnalytics, type AnalyticsEvent } from './analytics.ts';
import { baseUrlSchema, trimSlash } from './message.ts';
import type { PosthogAction } from '../../runtime/manifest/types.gen.ts';

type PosthogOptions = Omit<PosthogAction, 'limits' | 'description' | 'action'>;

/** Events per PostHog /batch/ call; its limit is the request size (20 MB), so this keeps calls modest. */
export const POSTHOG_BATCH_LIMIT = 1000;

/**
 * Analytics events to PostHog's `/batch/` endpoint with the project API key. Each event's `uuid` is derived from
 * the event and step, which PostHog uses to drop duplicates of a retried call.
 */
export const posthogAction: ActionAdapter<PosthogOptions> = {
  type: 'posthog',
  title: 'PosthogAction',
  description: 'Sends analytics events to PostHog in batches, with a stable uuid per event.',
  options: {
    properties: {
      ...analyticsOptions,
      api_key: { ...secretRefSchema, description: 'Env var holding the project API key (phc_…).' },
      base_url: { ...baseUrlSchema, description: 'PostHog host (default https://us.i.posthog.com).' },
    },
    required: ['event', 'distinct_id', 'api_key'],
  },
  example: { action: 'posthog', event: '@type', distinct_id: 'data.id', api_key: 'POSTHOG_API_KEY' },
  create(options) {
    const base = trimSlash(options.base_url ?? 'https://us.i.posthog.com');
    const build = compileAnalytics(options);
    return {
      type: 'posthog',
      maxBatch: POSTHOG_BATCH_LIMIT,
      prepare: build,
      async send(items, io) {
        const [apiKey] = readSecrets(io.env, options.api_key);
        const batch = await Promise.all(
          items.map(async (item) => {
            const e = item.payload as AnalyticsEvent;
            return { event: e.event, distinct_id: e.distinct_id, properties: { ...e.properties, distinct_id: e.distinct_id }, timestamp: new Date(e.time).toISOString(), uuid: asUuid(await stableId(item.key)) };
          }),
        );
        return sendTogether(items, async () => {
          const res = await io.fetch(`${base}/batch/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ api_key: apiKey, batch }) });
          if (!res.ok) throw await providerError('posthog', res, io.now);
          return batch.map((b) => ({ uuid: b.uuid }));
        });
      },
    };
  },
};
