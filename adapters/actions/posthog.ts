import { readSecrets } from '../../runtime/component/context.ts';
import { providerError, sendTogether, stableId } from '../../runtime/component/action.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { analyticsSpec, asUuid, compileAnalytics, type AnalyticsEvent } from './analytics.ts';
import { baseUrl, trimSlash } from './message.ts';
import { SWITCHYARD_VERSION } from '../../runtime/lib/version.gen.ts';

/** Events per PostHog /batch/ call; its limit is the request size (20 MB), so this keeps calls modest. */
export const POSTHOG_BATCH_LIMIT = 1000;

/**
 * What PostHog's SDKs put on every event: the library and its version. Under the event's own properties, so an
 * event that names its library (a relayed posthog-js event's `$lib: web`) keeps it.
 */
export const POSTHOG_LIB = { $lib: 'switchyard', $lib_version: SWITCHYARD_VERSION } as const;

/**
 * Analytics events to PostHog's `/batch/` endpoint with the project API key. Each event's `uuid` is derived from
 * the event and step, which PostHog uses to drop duplicates of a retried call.
 */
export const posthogAction = defineComponent({
  kind: 'action',
  name: 'posthog',
  title: 'PosthogAction',
  description: 'Sends analytics events to PostHog in batches, with a stable uuid per event.',
  spec: {
    ...analyticsSpec,
    api_key: field.secret().describe('Env var holding the project API key (phc_…).'),
    base_url: baseUrl('https://us.i.posthog.com', 'PostHog host.'),
  },
  example: { action: 'posthog', event: '@type', distinct_id: 'data.id', api_key: 'POSTHOG_API_KEY' },
  create(options) {
    const base = trimSlash(options.base_url);
    const build = compileAnalytics(options);
    return {
      type: 'posthog',
      maxBatch: POSTHOG_BATCH_LIMIT,
      // In the recorded payload, so the effect shows what PostHog is sent.
      prepare: (ctx): AnalyticsEvent => {
        const event = build(ctx);
        return { ...event, properties: { ...POSTHOG_LIB, ...event.properties } };
      },
      async send(items, io) {
        const [apiKey] = readSecrets(io.env, options.api_key);
        const batch = await Promise.all(
          items.map(async (item) => {
            const e = item.payload as AnalyticsEvent;
            return {
              event: e.event,
              distinct_id: e.distinct_id,
              properties: { ...e.properties, distinct_id: e.distinct_id },
              timestamp: new Date(e.time).toISOString(),
              uuid: asUuid(await stableId(item.key)),
            };
          }),
        );
        return sendTogether(items, async () => {
          const res = await io.fetch(`${base}/batch/`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ api_key: apiKey, batch }),
          });
          if (!res.ok) throw await providerError('posthog', res, io.now);
          return batch.map((b) => ({ uuid: b.uuid }));
        });
      },
    };
  },
});
