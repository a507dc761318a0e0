import { Webhook } from 'standardwebhooks';
import type { CatalogSdk } from '../../support/catalog.ts';

/**
 * Polar's SDK verifies with `new Webhook(Buffer.from(secret, 'utf-8').toString('base64')).verify(body, headers)`
 * (@polar-sh/sdk src/webhooks.ts validateEvent); this calls the standardwebhooks library exactly so.
 */
const polarWebhook = (secret: string) => new Webhook(Buffer.from(secret, 'utf-8').toString('base64'));

export default {
  package: 'standardwebhooks',
  sign: async ({ secret, body, now }) => {
    const id = `msg_${crypto.randomUUID().replace(/-/g, '')}`;
    const at = new Date(now);
    return {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now / 1000)),
      'webhook-signature': polarWebhook(secret).sign(id, at, body),
    };
  },
  verify: async ({ secret, body, headers }) => {
    try {
      polarWebhook(secret).verify(body, headers);
      return true;
    } catch {
      return false;
    }
  },
} satisfies CatalogSdk;
