import { readSecrets } from '../../runtime/component/context.ts';
import { providerError, sendTogether, stableId } from '../../runtime/component/action.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { analyticsSpec, compileAnalytics, type AnalyticsEvent } from './analytics.ts';
import { baseUrl, trimSlash } from './message.ts';

/** Mixpanel takes up to 2000 events per /track or /import call. */
export const MIXPANEL_BATCH_LIMIT = 2000;

/**
 * Analytics events to Mixpanel in batches of up to 2000: `/import?strict=1` (server-side, with the project's API
 * secret) or `/track`. Every event carries an `$insert_id` derived from the event and step, so Mixpanel drops a
 * retried duplicate.
 */
export const mixpanelAction = defineComponent({
  kind: 'action',
  name: 'mixpanel',
  title: 'MixpanelAction',
  description: 'Sends analytics events to Mixpanel in batches, with $insert_id for deduplication.',
  spec: {
    ...analyticsSpec,
    mode: field.enum(['import', 'track']).default('import').describe('import (needs api_secret) or track.'),
    token: field.secret().describe('Env var holding the project token.'),
    api_secret: field.secret().optional().describe('Env var holding the project API secret (import).'),
    base_url: baseUrl('https://api.mixpanel.com'),
  },
  example: {
    action: 'mixpanel',
    event: '@type',
    distinct_id: 'data.object.customer',
    token: 'MIXPANEL_TOKEN',
    api_secret: 'MIXPANEL_API_SECRET',
  },
  create(options) {
    const mode = options.mode;
    if (mode === 'import' && !options.api_secret) throw new Error('mode import needs api_secret (or use mode: track)');
    const base = trimSlash(options.base_url);
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
            return {
              event: e.event,
              properties: {
                ...e.properties,
                token,
                distinct_id: e.distinct_id,
                time: e.time,
                $insert_id: await stableId(item.key),
              },
            };
          }),
        );
        const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
        if (mode === 'import')
          headers.authorization = `Basic ${btoa(`${readSecrets(io.env, options.api_secret!)[0]}:`)}`;
        return sendTogether(items, async () => {
          const res = await io.fetch(`${base}/${mode === 'import' ? 'import?strict=1' : 'track'}`, {
            method: 'POST',
            headers,
            body: JSON.stringify(events),
          });
          if (!res.ok) throw await providerError('mixpanel', res, io.now);
          return events.map((e) => ({ insert_id: e.properties.$insert_id }));
        });
      },
    };
  },
});
