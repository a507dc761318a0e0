import { Webhook } from 'standardwebhooks';
import type { CatalogSdk } from '../../support/catalog.ts';

/** Supabase signs HTTP hooks with Standard Webhooks; the reference library takes the bare base64 key. */
const key = (secret: string) => secret.replace(/^v1,/, '').replace(/^whsec_/, '');

export default {
  package: 'standardwebhooks',
  sign: async ({ secret, body, now }) => {
    const id = `msg_${crypto.randomUUID().replace(/-/g, '')}`;
    return {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now / 1000)),
      'webhook-signature': new Webhook(key(secret)).sign(id, new Date(now), body),
    };
  },
  verify: async ({ secret, body, headers }) => {
    try {
      new Webhook(key(secret)).verify(body, headers);
      return true;
    } catch {
      return false;
    }
  },
} satisfies CatalogSdk;
