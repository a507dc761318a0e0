import { readSecrets, secretRefSchema } from '../../runtime/component/context.ts';
import { providerError, sendTogether, stableId, type ActionAdapter } from '../../runtime/component/action.ts';
import { analyticsOptions, compileAnalytics, type AnalyticsEvent } from './analytics.ts';
import { baseUrlSchema, trimSlash } from './message.ts';
import type { MixpanelAction } from '../../runtime/manifest/types.gen.ts';

type MixpanelOptions = Omit<MixpanelAction, 'limits' | 'description' | 'action'>;

/** Mixpanel takes up to 2000 events per /track or /import call. */
export const MIXPANEL_BATCH_LIMIT = 2000;

/**
 * Analytics events to Mixpanel in batches of up to 2000: `/import?strict=1` (server-side, with the project's API
 * secret) or `/track`. Every event carries an `$insert_id` derived from the event and step, so Mixpanel drops a
 * retried duplicate.
 */
export const mixpanelAction: ActionAdapter<MixpanelOptions> = {
  type: 'mixpanel',
  title: 'MixpanelAction',
  description: 'Sends analytics events to Mixpanel in batches, with $insert_id for deduplication.',
  options: {
    properties: {
      ...analyticsOptions,
      mode: { enum: ['import', 'track'], description: 'import (default; needs api_secret) or track.' },
      token: { ...secretRefSchema, description: 'Env var holding the project token.' },
      api_secret: { ...secretRefSchema, description: 'Env var holding the project API secret (import).' },
      base_url: baseUrlSchema,
    },
    required: ['event', 'distinct_id', 'token'],
  },
  example: { action: 'mixpanel', event: '@type', distinct_id: 'data.object.customer', token: 'MIXPANEL_TOKEN', api_secret: 'MIXPANEL_API_SECRET' },
  create(options) {
    const mode = options.mode ?? 'import';
    if (mode === 'import' && !options.api_secret) throw new Error('mode import needs api_secret (or use mode: track)');
    const base = trimSlash(options.base_url ?? 'https://api.mixpanel.com');
    const build = compileAnalytics(options);
    return {
      type: 'mixpanel',
      maxBatch: MIXPANEL_BATCH_LIMIT,
      prepare: build,
      async send(items, io) {
        const [token] = readSecrets(io.env, options.token);
        const events = await Promise.all(
          items.map(async (item) => {
            const e = item.payload as AnalyticsEvent;
            return { event: e.event, properties: { ...e.properties, token, distinct_id: e.distinct_id, time: e.time, $insert_id: await stableId(item.key) } };
          }),
        );
        const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
        if (mode === 'import') headers.authorization = `Basic ${btoa(`${readSecrets(io.env, options.api_secret!)[0]}:`)}`;
        return sendTogether(items, async () => {
          const res = await io.fetch(`${base}/${mode === 'import' ? 'import?strict=1' : 'track'}`, { method: 'POST', headers, body: JSON.stringify(events) });
          if (!res.ok) throw await providerError('mixpanel', res, io.now);
          return events.map((e) => ({ insert_id: e.properties.$insert_id }));
        });
      },
    };
  },
};
