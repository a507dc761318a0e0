import { Webhook } from 'standardwebhooks';
import type { CatalogSdk, SdkArgs } from '../../support/catalog.ts';

/** The spec's reference library signs a delivery our verifier must accept, and verifies what our scheme signed. */
export default {
  package: 'standardwebhooks',
  sign: async ({ secret, body, now }: Omit<SdkArgs, 'headers'>) => {
    const id = `msg_${crypto.randomUUID().replace(/-/g, '')}`;
    return {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, new Date(now), body),
    };
  },
  verify: async ({ secret, body, headers }: SdkArgs) => {
    try {
      new Webhook(secret).verify(body, headers);
      return true;
    } catch {
      return false;
    }
  },
} satisfies CatalogSdk;
