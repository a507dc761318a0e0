import { LinearWebhookClient } from '@linear/sdk/webhooks';
import type { CatalogSdk } from '../../support/catalog.ts';

/** Linear's own verifier (LinearWebhookClient.verify): HMAC of the raw body, webhookTimestamp from the body. */
export default {
  package: '@linear/sdk',
  verify: async ({ secret, body, headers }) => {
    const signature = headers['linear-signature'] ?? '';
    const timestamp = (JSON.parse(body) as { webhookTimestamp?: number }).webhookTimestamp;
    try {
      return new LinearWebhookClient(secret).verify(Buffer.from(body), signature, timestamp);
    } catch {
      return false;
    }
  },
} satisfies CatalogSdk;
