import OpenAI from 'openai';
import type { CatalogSdk, SdkArgs } from '../../support/catalog.ts';

/**
 * The official client's webhooks.verifySignature() checks what the standard-webhooks scheme signed. It measures
 * the timestamp against the wall clock, so the tolerance passed is the SDK's 300 s plus however far `now` is from it.
 */
export default {
  package: 'openai',
  verify: async ({ secret, body, headers, now }: SdkArgs) => {
    const client = new OpenAI({ apiKey: 'sk-test-not-used' });
    const tolerance = 300 + Math.ceil(Math.abs(Date.now() - now) / 1000);
    try {
      await client.webhooks.verifySignature(body, headers, secret, tolerance);
      return true;
    } catch {
      return false;
    }
  },
} satisfies CatalogSdk;
