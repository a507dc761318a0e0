import { Webhook } from 'svix';
import type { CatalogSdk, SdkArgs } from '../../support/catalog.ts';

/** The svix library signs a delivery our verifier must accept, and verifies what the svix scheme signed. */
export default {
  package: 'svix',
  sign: async ({ secret, body, now }: Omit<SdkArgs, 'headers'>) => {
    const id = `msg_${crypto.randomUUID().replace(/-/g, '')}`;
    return {
      'svix-id': id,
      'svix-timestamp': String(Math.floor(now / 1000)),
      'svix-signature': new Webhook(secret).sign(id, new Date(now), body),
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
