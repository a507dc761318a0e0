import { createHmac } from 'node:crypto';
import type { CatalogSdk, SdkArgs } from '../../support/catalog.ts';

const header = (headers: Record<string, string>, name: string) =>
  Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1] ?? '';

/**
 * Intercom's own webhook sample, ported: intercom-archive/intercom-webhooks node/index.js at
 * 9c114a6d9fb82914670a8108ed94cc5f307118ad ('sha1=' + hex HMAC-SHA1 of the raw body keyed with the client secret,
 * compared with X-Hub-Signature). The sample only logs a missing header; here that is a refusal.
 */
export default {
  package: 'github:intercom-archive/intercom-webhooks',
  verify: async ({ secret, body, headers }: SdkArgs) => {
    const expected = header(headers, 'x-hub-signature');
    return expected !== '' && `sha1=${createHmac('sha1', secret).update(body).digest('hex')}` === expected;
  },
} satisfies CatalogSdk;
