import { createHmac } from 'node:crypto';
import type { CatalogSdk } from '../../support/catalog.ts';

/**
 * Sentry publishes no npm package that verifies integration-platform webhooks; this ports its own code. sign:
 * SentryApp.build_signature in Sentry's server (getsentry/sentry src/sentry/sentry_apps/models/sentry_app.py @
 * 02119258dbe2a42a243d50e3e753280de83f9bcb): hex HMAC-SHA256 of the body string as UTF-8, keyed with the Client
 * Secret; AppPlatformEvent (src/sentry/sentry_apps/api/serializers/app_platform_event.py @
 * 10c5f04e25e9a0b2ab4d15441512f036c46d5b63) sends that same string as the body. verify: the docs' verifySignature,
 * which HMACs JSON.stringify(request.body) (the same bytes only for a compact body, as the sample is).
 */
const header = (headers: Record<string, string>, name: string) =>
  Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];

export default {
  package: 'github:getsentry/sentry',
  sign: async ({ secret, body }) => ({
    'sentry-hook-signature': createHmac('sha256', secret).update(body, 'utf8').digest('hex'),
  }),
  verify: async ({ secret, body, headers }) => {
    const hmac = createHmac('sha256', secret);
    hmac.update(JSON.stringify(JSON.parse(body)), 'utf8');
    return hmac.digest('hex') === header(headers, 'sentry-hook-signature');
  },
} satisfies CatalogSdk;
