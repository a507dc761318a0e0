/**
 * PostHog events say which library sent them, as PostHog's own SDKs do: `$lib: switchyard` and `$lib_version` (the
 * package's version), on every event of a browser batch and on an event sent alone; a property of the same name
 * the event already carries is kept.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import pkg from '../../package.json';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import { FakeProviders } from '../support/fake-providers.ts';
import { defaultManifest, harness, QUEUE_NAMES } from '../support/harness.ts';

const KEY = { 'x-switchyard-key': 'pk_dev_switchyard', 'content-type': 'application/json' };
type PosthogBody = { batch: { event: string; properties: Record<string, unknown> }[] };

function setup() {
  const fake = new FakeProviders();
  const h = harness({
    compiled: compileManifest(defaultManifest, defaultRegistry),
    fetch: fake.fetch,
    env: { POSTHOG_API_KEY: 'phc_test', MIXPANEL_TOKEN: 'mp_token', DB: env.DB },
  });
  const track = async (events: unknown[]) => {
    const res = await h.request('/v1/track', { method: 'POST', body: JSON.stringify({ events }), headers: KEY });
    expect(res.status).toBe(202);
    await h.runtime.queue({ queue: QUEUE_NAMES.ANALYTICS_QUEUE, messages: h.drain() }, h.env);
  };
  const received = () => fake.to(/posthog\.com\/batch\/$/).map((r) => (r.json as PosthogBody).batch);
  return { track, received };
}

describe('posthog: $lib and $lib_version', () => {
  it('every event of a browser batch carries $lib switchyard and the package version', async () => {
    const s = setup();
    await s.track([1, 2, 3].map((n) => ({ event: `click_${n}`, distinct_id: 'anon_1', properties: { n } })));
    const [batch, ...more] = s.received();
    expect(more).toHaveLength(0);
    expect(batch!.map((e) => [e.event, e.properties.$lib, e.properties.$lib_version, e.properties.n])).toEqual([
      ['click_1', 'switchyard', pkg.version, 1],
      ['click_2', 'switchyard', pkg.version, 2],
      ['click_3', 'switchyard', pkg.version, 3],
    ]);
  });

  it('an event sent alone carries them too, and keeps a $lib the event set itself', async () => {
    const s = setup();
    await s.track([{ event: 'signed_up', distinct_id: 'anon_2', properties: { plan: 'pro' } }]);
    await s.track([{ event: 'opened', distinct_id: 'anon_2', properties: { $lib: 'web', $lib_version: '1.2.3' } }]);
    expect(s.received().map((b) => b.map((e) => [e.event, e.properties.$lib, e.properties.$lib_version]))).toEqual([
      [['signed_up', 'switchyard', pkg.version]],
      [['opened', 'web', '1.2.3']],
    ]);
  });
});
