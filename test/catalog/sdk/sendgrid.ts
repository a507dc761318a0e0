import { EventWebhook } from '@sendgrid/eventwebhook';
import type { CatalogSdk } from '../../support/catalog.ts';

export default {
  package: '@sendgrid/eventwebhook',
  verify: async ({ secret, body, headers }) => {
    const official = new EventWebhook();
    return official.verifySignature(
      official.convertPublicKeyToECDSA(secret),
      body,
      headers['x-twilio-email-event-webhook-signature']!,
      headers['x-twilio-email-event-webhook-timestamp']!,
    );
  },
} satisfies CatalogSdk;
